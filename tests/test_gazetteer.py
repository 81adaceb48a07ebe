"""Places and named things: what a villager or a profile writes, resolved to Sichuan's divisions, and
the crop or animal a message is about (``exchange.matching.subjects``)."""

from __future__ import annotations

import pytest

from exchange.gazetteer import resolve
from exchange.matching.evidence import homophone_fixes
from exchange.matching.normalize import normalize
from exchange.matching.subjects import subjects_in, things_in


@pytest.mark.parametrize("text,expected", [
    ("四川省广安市岳池县", "四川省广安市岳池县"),
    ("岳池县坪滩镇", "四川省广安市岳池县坪滩镇"),
    ("岳池兴隆镇", "四川省广安市岳池县兴隆镇"),
    ("凉山州会理", "四川省凉山彝族自治州会理市"),
    ("雅安名山区", "四川省雅安市名山区"),
])
def test_places_resolve_down_to_the_most_precise_level(text, expected):
    assert resolve(text).full_name == expected


def test_a_township_name_shared_by_several_counties_needs_its_county():
    assert resolve("兴隆镇").township == ""
    assert resolve("岳池县兴隆镇").township == "兴隆镇"


@pytest.mark.parametrize("text", ["", "北京", "火星乡", "<script>", "'; drop table"])
def test_unknown_places_resolve_to_nothing(text):
    assert not resolve(text).known


# Subjects: what a farmer's message is about. The sentences are our own.


def _first(text: str) -> str:
    """The standard name of the read-back's subject, or "" when none is claimed."""
    found = subjects_in(text)
    return found[0].canonical if found else ""


@pytest.mark.parametrize("text,canonical", [
    ("我屋头的窝笋叶子发黄咋个办", "莴笋"),        # a homophone typo of 莴笋
    ("广柑树今年一个果都不挂", "橙子"),            # Sichuan's old name for the sweet orange
    ("二季豆爬藤了要不要搭架子", "菜豆"),
    ("地地菜好久撒种合适", "荠菜"),
    ("泸州这边红粮啥时候收", "高粱"),
    ("黄莲苗子发黄是啥子原因", "黄连"),
    ("秧子才两叶一心 能不能打除草剂", "水稻"),
    ("屋头养了两头驴 不吃草了", "驴"),
    ("娃儿遭狗咬了 要打针不", "狗"),
])
def test_everyday_regional_and_misspelt_names_are_subjects(text, canonical):
    assert _first(text) == canonical


@pytest.mark.parametrize("text,canonical", [
    ("玉米、麸皮、豆粕咋个配 喂架子猪", "育肥猪"),   # the crop is an ingredient of the pigs' ration
    ("玉米加豆粕喂的 蛋鸡下蛋少了", "蛋鸡"),
    ("想搞稻鸭共养 鸭儿好久放下田", "鸭"),        # the crop names the field the ducks are raised in
    ("水稻田头养鸭 打药要注意啥", "鸭"),
    ("红苕涨价了 拿豆腐渣喂猪行不行", "猪"),       # a text about feeding the animal it names
])
def test_a_crop_named_as_feed_or_field_yields_to_the_animal(text, canonical):
    assert _first(text) == canonical


def test_a_crop_grown_for_the_animals_stays_the_subject():
    assert _first("种黑麦草喂羊 啥时候播") == "黑麦草"
    assert _first("玉米地里套种大豆 行距咋个留") == "玉米"


@pytest.mark.parametrize("text,name", [
    ("松树林下头想种天麻 好不好种", "天麻"),      # the wood only says where the crop grows
    ("塘里的鱼 好多草鱼翻白肚皮", "草鱼"),        # the kind named beats the bare 鱼
    ("菇棚里的香菇长绿霉了", "香菇"),
    ("鱼浮头了 增氧机开起没用", "鱼"),            # the animal inside a symptom's name
])
def test_the_thing_a_need_is_about_beats_the_scene_around_it(text, name):
    assert subjects_in(text)[0].name == name


def test_the_animal_a_breed_was_crossed_into_is_the_subject():
    assert subjects_in("安格斯杂交的母牛不发情")[0].name == "母牛"
    assert [t.name for t in subjects_in("玉米杂交的种子")] == ["玉米"]  # no cross joins crops


@pytest.mark.parametrize("text,subjects", [
    ("海椒叶子卷成鸡爪子了", ["海椒"]),
    ("叶子全部长成鸡爪状 是不是药害", []),
    ("果子龟裂咋回事", []),
    ("狗日的虫子把莲花白啃完了", ["莲花白"]),
])
def test_a_name_inside_a_simile_or_an_oath_names_nothing(text, subjects):
    assert [t.name for t in subjects_in(text)] == subjects


def test_a_chicken_s_own_feet_still_name_the_chicken():
    assert _first("鸡爪子肿了 走路一瘸一拐") == "鸡"


@pytest.mark.parametrize("text", [
    "大棚土头起了一层白霜 是不是盐渍化了",   # a soil problem: the 大棚 is only where it happens
    "秸秆还田要不要加腐熟剂",               # straw returned to the field is a fertilizer, not a subject
])
def test_a_soil_or_fertilizer_question_claims_no_subject(text):
    assert subjects_in(text) == []
    assert things_in(text)


@pytest.mark.parametrize("text,written,meant", [
    ("我们这里那个油才 开了花不结籽", "油才", "油菜"),           # pinyin input: 才 offered for 菜
    ("种的四季都 叶子上有锈色的点点", "四季都", "菜豆"),          # 四季豆 under its standard name
    ("小白才叶子上好多洞洞", "小白才", "小白菜"),
    ("翻茄叶子卷起来了", "翻茄", "番茄"),                        # the misspelt name swallows the 茄 it holds
])
def test_a_crop_typed_as_a_homophone_is_still_the_subject(text, written, meant):
    found = subjects_in(text)
    assert (found[0].name, found[0].canonical) == (written, meant)
    assert found[0].label == f"{written}（{meant}）"


@pytest.mark.parametrize("text,subject", [
    ("介壳虫打什么药才打得死", ""),          # 药才 is no 药材: a group name is never guessed
    ("杨工 我们厂的空压机经常跳闸", "空压机"),  # 杨工 is no 羊公: a rare name is never guessed
    ("这只鸡是什么病", "鸡"),                # 只鸡 is no 雉鸡: a measure word starts no name
    ("我们是烘花椒的 烘干机温度开好高", "花椒"),  # 烘花椒 is no 红花椒: a name written right stays
    ("抖音上那个网红叫啥名字", ""),           # 红叫 cuts the word 网红: no 红椒
    ("玉米苗后除草剂打早了", "玉米苗"),       # a crop named right leaves no typo to hunt (打早 is no 大枣)
])
def test_a_homophone_of_a_crop_that_is_something_else_names_nothing(text, subject):
    assert [t.name for t in subjects_in(text)][:1] == ([subject] if subject else [])


@pytest.mark.parametrize("text,name", [
    ("俺家鸡苗都半个月了 有的腿瘸了站不起来", "鸡苗"),     # the 家 of 俺家 starts no 家鸡
    ("我家兔子断了奶就拉稀", "兔子"),
    ("我们家那个蜜蜂 中蜂 巢门口好多死幼虫", "中蜂"),      # the kind named after the group
    ("下午帮我妈挖洋芋。说正事哈，我家那几头牛不咋吃草了", "牛"),  # what follows "说正事" is the question
    ("贵州毕节海拔1500左右，能种羊肚菌不", "羊肚菌"),  # not 种羊 (breeding sheep): the longer name overlapping it
    ("牦牛犊子拉稀 才生下来十来天", "牦牛犊子"),
    ("俺们这豆子结荚了，荚里头有虫子钻进去吃豆粒", "豆子"),
    ("油菜花而不实 是不是缺硼", "油菜花"),  # a sign overlapping the crop does not take its place
    ("请问名山这边茶树深修剪一般放在什么时候", "茶树"),  # the 边 of 这边 starts no 边茶 (a dark tea)
    ("川兄根烂了好多 扯起来根是黑的", "川兄"),  # 川芎 as pinyin input offers it
])
def test_the_animal_a_rambling_or_possessive_message_is_about(text, name):
    assert subjects_in(text)[0].name == name


@pytest.mark.parametrize("text,window", [("菜地年年种 换啥子菜都长不好", "菜都"), ("鱼塘里鱼翻肚皮", "里鱼")])
def test_grammar_next_to_a_name_is_no_typo_of_another(text, window):
    """菜都 sounds like 菜豆 and 里鱼 like 鲤鱼, but 都 and 里 are grammar: a typo keeps two other characters."""
    assert window not in [t.name for t in things_in(text)]


@pytest.mark.parametrize(("text", "fix"), [("猪温咋个治", ("猪温", "猪瘟")), ("想学直拨卖货", ("直拨", "直播"))])
def test_a_domain_word_typed_by_sound_is_read_as_meant(text: str, fix: tuple[str, str]):
    assert fix in homophone_fixes(normalize(text))


@pytest.mark.parametrize(("text", "fix"), [("今年播种前想拌种", "精量播种"), ("晚上巡塘太累了", "网上"),
                                         ("甘肃定西的洋芋 晚疫病咋个防", "甘薯"),
                                         ("豆荚里头有虫 一剥一个眼儿", "羊儿"), ("苞谷秆子倒了一片", "柑子")])
def test_an_everyday_word_is_written_as_meant(text: str, fix: str):
    """今年 sounds like 精量 to a Sichuan ear, 晚上 like 网上: common words are no typos of a domain word; nor is a
    word that shares only a colloquial ending with one (眼儿/羊儿, 秆子/柑子)."""
    assert fix not in [meant for _, meant in homophone_fixes(normalize(text))]


def test_a_window_across_two_words_is_no_typo():
    """那种|塑料: 种塑 sounds like 种薯 (seed potatoes), but cuts both words."""
    assert ("种塑", "种薯") not in homophone_fixes(normalize("我们厂做那种塑料桶 表面有缩痕"))


@pytest.mark.parametrize(("text", "subject"), [
    ("公司做汽车坐垫的 缝线老是跳针", "汽车坐垫"), ("做不锈钢盆的小厂 抛光老是有划痕", "不锈钢盆"),
    ("我们是做塑料凳子的注塑小厂 产品放两天就翘", "塑料凳子"),  # a word between "的" and "厂"
    ("我们厂里注塑的塑料桶 边边上老是有飞边毛刺", "塑料桶"),  # what the workshop moulds
    ("我们是做养殖的 想问下环评咋个办", None),  # a trade, not a product
])
def test_a_workshop_that_names_nothing_known_is_about_what_it_makes(text: str, subject: str | None):
    assert [t.name for t in subjects_in(text)][:1] == ([subject] if subject else [])


@pytest.mark.parametrize(("text", "subject"), [
    ("红苕放久了起黑斑 还敢拿去喂猪不", "红苕"), ("发霉的花生能不能拿来喂鸡", "花生"),
    ("苞谷太贵了 拿酒糟喂猪 猪不爱吃", "猪"),  # feeding, not asking whether it may be fed: the pig
])
def test_asking_whether_a_crop_can_be_fed_is_about_the_crop(text: str, subject: str):
    assert subjects_in(text)[0].name == subject


@pytest.mark.parametrize(("text", "subject"), [
    ("养了三十头牛 想买台铡草机 哪种好用", "铡草机"), ("种了十亩花椒 打算添个烘干机", "烘干机"),
    ("种了十亩花椒 烘干机烘出来颜色发黑", "花椒"),  # a machine only used: the crop stays first
    ("鱼塘想装个手机上能看水温的 停电好报警", "鱼"),  # the phone is where it is read, not what is installed
])
def test_a_machine_to_buy_is_the_subject_ahead_of_the_scene(text: str, subject: str):
    assert subjects_in(text)[0].name == subject


@pytest.mark.parametrize(("text", "subject"), [
    ("我家那几棵甜樱桃一落雨就裂口 晚上还要去喂牛", "甜樱桃"),  # a crop with a sign is no side dish
    ("桑树叶子发黄卷边 摘回来喂蚕都不爱吃", "桑树"),
    ("今年的玉米秸秆泡了水 还喂得牛不", "玉米秸秆"),  # 喂得: Sichuanese for "can it still be fed"
])
def test_a_crop_in_trouble_stays_the_subject_beside_an_animal_fed(text: str, subject: str):
    assert subjects_in(text)[0].name == subject


def test_the_animals_trouble_is_not_the_feeds():
    assert subjects_in("红苕喂猪死了两头")[0].name == "猪"  # 死 is the pig's, not the sweet potato's


@pytest.mark.parametrize("text", ["包谷秆秆堆起好多 烧又不准烧 咋个弄", "田边的玉米秆子 能不能打捆卖"])
def test_maize_straw_by_its_everyday_names_is_straw(text: str):
    assert subjects_in(text)[0].canonical == "秸秆"
