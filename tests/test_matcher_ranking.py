"""Who comes first among the experts of one domain: the specialist of the need's crop or animal (or of a
kind of it), then the domain's generalist, and the specialist of another crop last."""

from __future__ import annotations

import pytest

from exchange.matching.matcher import Matcher, Profile
from exchange.matching.subjects import KIN, SAME, SIBLING, UNRELATED, kinship, lineage, subjects_in
from exchange.matching.symptoms import suggested_problems

ARTICLES = [Profile("a-1", "番茄晚疫病怎么防 叶片黑斑 霉层", ("vegetables", "plant_protection"))]


def ranked(experts: list[Profile], need: str) -> list[str]:
    """Expert ids for a need, best first (no sentence encoder: words, domains and named things only)."""
    return [e.id for e in Matcher(experts, ARTICLES, semantic=False).match(need, top=len(experts)).experts]


def test_the_tomato_specialist_comes_before_the_generalist_and_the_cucumber_specialist():
    experts = [
        Profile("cucumber", "黄瓜、辣椒病害防治与嫁接育苗，霜霉病、白粉病综合防控", ("vegetables", "plant_protection")),
        Profile("generalist", "设施蔬菜病虫害绿色防控，农药减量与安全间隔期", ("plant_protection", "vegetables")),
        Profile("tomato", "番茄设施栽培与整枝，番茄品种选择", ("vegetables",)),
    ]
    order = ranked(experts, "大棚番茄叶子上起黑斑 一片一片的 用啥药")
    assert order.index("tomato") < order.index("generalist") < order.index("cucumber")


def test_a_poultry_vet_comes_before_the_duck_farmer_for_sick_chickens():
    experts = [
        Profile("duck", "蛋鸭养殖，鸭子拉稀、死了的原因排查", ("poultry",)),
        Profile("poultry-vet", "家禽疫病诊断与免疫程序", ("poultry",)),
    ]
    assert ranked(experts, "鸡拉绿色的稀屎 冠子发紫 死了好几只")[0] == "poultry-vet"


def test_an_expert_naming_the_pest_by_another_name_comes_first():
    experts = [
        Profile("orchard", "柑橘病虫害打药，柑橘用药时间与药剂选择", ("fruit", "plant_protection")),
        Profile("mites", "柑橘叶螨的监测与捕食螨释放", ("fruit", "plant_protection")),
    ]
    assert ranked(experts, "柑橘树上起火龙了 打啥药")[0] == "mites"  # 火龙: 红蜘蛛, the mite


@pytest.mark.parametrize(("need", "named", "level"), [
    ("山羊", "山羊", SAME),
    ("育肥猪", "猪", KIN),  # a pig vet treats the fattening pig
    ("鸡", "家禽", KIN),  # a poultry vet treats the chicken
    ("鲫鱼", "黄颡鱼", SIBLING),  # two fish
    ("梨", "苹果", UNRELATED),
])
def test_kinship_of_crops_and_animals(need: str, named: str, level: int):
    assert kinship(need, named) == level


def test_lineage_reads_the_head_of_a_name_of_the_same_kind_only():
    assert lineage("乐至黑山羊") == ("乐至黑山羊", "山羊", "羊")
    assert lineage("矮牵牛") == ("矮牵牛",)  # a flower, no cow
    assert lineage("大麦") == ("大麦",)  # 麦 stands for 小麦: barley is no wheat


def test_the_subject_named_twice_is_the_read_back_subject():
    assert subjects_in("梨子和桃子种在一起 桃子老是落果")[0].canonical == subjects_in("桃子")[0].canonical


def test_a_symptom_only_need_ranks_the_vet_naming_the_suggested_disease_above_the_generalist():
    experts = [
        Profile("scours-vet", "仔猪黄痢、白痢的预防，产房保温与初乳管理", ("pig",)),
        Profile("generalist", "仔猪、育肥猪饲养管理与猪舍建设，母猪配种和出栏安排", ("pig",)),
    ]
    assert ranked(experts, "小猪拉黄色稀屎 站不起来")[0] == "scours-vet"  # 黄色稀屎: 仔猪黄痢


def test_the_same_sign_suggests_by_the_animal_it_is_seen_on():
    experts = [
        Profile("poultry-vet", "家禽疫病诊断，新城疫与禽流感免疫抗体监测", ("poultry",)),
        Profile("layer-farmer", "蛋鸡笼养管理，育雏保温与光照程序", ("poultry",)),
    ]
    assert ranked(experts, "鸡拉绿色的屎 死了好几只")[0] == "poultry-vet"  # 绿粪: 新城疫, 禽流感
    assert "新城疫" not in suggested_problems("猪拉绿色的屎", frozenset({"猪"}))



SELLERS_AND_GROWERS = [
    Profile("navel-grower", "脐橙丰产栽培与控梢保果，脐橙裂果防控", ("fruit",)),
    Profile("citrus-pests", "柑橘红蜘蛛、潜叶蛾防治与清园", ("fruit", "plant_protection")),
    Profile("citrus-pruner", "柑橘整形修剪与大小年调控", ("fruit",)),
    Profile("pig-vet", "生猪疫病防治与猪场生物安全，仔猪腹泻、猪瘟诊断", ("pig",)),
    Profile("pig-farmer", "育肥猪饲养管理与出栏安排，猪舍通风降温", ("pig",)),
    Profile("sow-breeder", "母猪配种与产仔管理，种猪选育", ("pig",)),
    Profile("wholesale", "农产品进商超与批发市场对接，供货合同谈判", ("ecommerce",)),
    Profile("group-buying", "社区团购与微信社群运营，团长招募", ("ecommerce",)),
]


@pytest.mark.parametrize("need", ["脐橙滞销 树上还挂着两万斤 有没有啥路子", "今年的猪卖不掉 猪贩子压价"])
def test_a_selling_need_ranks_the_marketers_before_the_growers_of_its_produce(need: str):
    """A selling question is a selling question: the crop or animal says which produce, not whom to ask."""
    first = ranked(SELLERS_AND_GROWERS, need)[:3]
    assert first[0] in {"wholesale", "group-buying"}
    assert {"wholesale", "group-buying"} <= set(first)


def test_a_bee_question_counts_the_chinese_honeybee_specialist_as_its_own():
    experts = [
        Profile("apis-cerana", "中蜂春繁与秋繁管理，奖励饲喂糖水与花粉代用品", ("beekeeping",)),
        Profile("apiary", "蜂场春季管理与饲喂，蜂箱保温", ("beekeeping",)),
    ]
    assert kinship("蜜蜂", "中蜂") == KIN  # 中蜂 is a honeybee, though its head 蜂 only stands for 蜜蜂
    assert ranked(experts, "蜜蜂春繁喂糖水 白糖和水兑多少")[0] == "apis-cerana"


@pytest.mark.parametrize("caption", ["这是啥子病哦 你们看得出来不", "看哈这个叶子咋个了", "急！这咋整 看图"])
def test_a_question_that_names_nothing_goes_to_who_diagnoses_and_shows_no_reading(caption: str):
    """"这是啥子病哦" or "急！这咋整 看图" with a photo: the diagnosis lab and the photo-recognition tool before
    any specialist, and no 科普 article, since none can be about what was not said."""
    experts = [
        Profile("clubroot", "十字花科根肿病发生规律与防控，石灰调酸与抗病品种", ("plant_protection", "vegetables")),
        Profile("photos", "农业大数据分析与作物病虫害图像识别，手机拍照识别工具", ("digital",)),
        Profile("lab", "作物病害快速诊断与病原鉴定，可寄送病样镜检", ("plant_protection",)),
    ]
    result = Matcher(experts, ARTICLES, semantic=False).match(caption, top=3)
    assert [e.id for e in result.experts][:2] == ["lab", "photos"]
    assert result.articles == []


def test_the_signs_of_a_crop_named_by_its_produce_still_suggest_its_pest():
    """"茶叶上有小绿虫": 茶叶 names the produce, and the small green insect is still the tea leafhopper."""
    experts = [
        Profile("packing", "茶叶标准化拼配与包装，茶叶小作坊生产许可", ("tea", "processing")),
        Profile("leafhopper", "茶小绿叶蝉、灰茶尺蠖绿色防控，色板与性诱剂", ("tea", "plant_protection")),
        Profile("planting", "茶园建园与幼龄茶树管理，茶叶采摘标准", ("tea",)),
    ]
    assert ranked(experts, "茶叶上有小绿虫")[0] == "leafhopper"


TOMATO_HANDS = [
    Profile(f"tomato-{n}", f"番茄{topic}，番茄栽培管理", ("vegetables",))
    for n, topic in enumerate(["早疫病与晚疫病防治", "育苗与嫁接", "整枝打杈", "水肥管理", "设施栽培"])
]
LAB = Profile("lab", "作物病害快速诊断与病原鉴定，可寄送病样镜检", ("plant_protection",))


def first_five(need: str) -> list[str]:
    return [e.id for e in Matcher(TOMATO_HANDS + [LAB], ARTICLES, semantic=False).match(need, top=5).experts]


def test_a_need_describing_signs_keeps_a_place_for_who_diagnoses():
    """Five tomato hands may each guess at "番茄叶子上长黑斑"; the lab that takes samples can tell: it takes the
    last of five places when none of the five diagnoses."""
    shown = first_five("番茄叶子上长黑斑 一片一片的 是啥子病")
    assert shown[-1] == "lab" and all(e.startswith("tomato-") for e in shown[:-1])


def test_a_need_without_signs_keeps_its_specialists():
    assert "lab" not in first_five("番茄几月份育苗合适")


def test_the_lab_does_not_take_the_place_of_who_treats_the_suggested_disease():
    """"根上长了好多大疙瘩" on 莲花白 suggests clubroot: its specialist in fifth place keeps it, and the lab takes the
    place of a tomato hand who names no such problem."""
    clubroot = Profile("clubroot", "十字花科根肿病防控，石灰调酸与抗病品种", ("plant_protection", "vegetables"))
    cabbage = [Profile(f"cabbage-{n}", f"莲花白{topic}，莲花白栽培管理", ("vegetables",))
               for n, topic in enumerate(["高山错季生产", "育苗", "水肥管理", "订单种植"])]
    shown = [e.id for e in Matcher(cabbage + [clubroot, LAB], ARTICLES, semantic=False)
             .match("我们高山上的莲花白根上长了好多大疙瘩 苗子一到中午就蔫", top=5).experts]
    assert "clubroot" in shown and "lab" in shown


def test_a_herb_team_is_kin_to_every_herb_crop():
    """A 中药材 team answers for the 黄精 grower; the pesticide generalist does not come first."""
    experts = [
        Profile("sprayer", "农药减量增效与科学用药，病虫害统防统治", ("plant_protection",)),
        Profile("herbs", "中药材规范化种植与病虫害防治，药材质量检测", ("herbs",)),
    ]
    assert kinship("黄精", "中药材") == KIN
    assert ranked(experts, "林下种的黄精 叶子起褐色圆斑 打啥药")[0] == "herbs"


def test_a_pest_named_after_a_bee_is_no_bee_question():
    """栗瘿蜂 is the chestnut gall wasp: the 蜂 inside its name says nothing of beekeeping."""
    experts = [
        Profile("bees", "中蜂饲养与蜂病防治，蜂群越冬管理", ("beekeeping",)),
        Profile("chestnut", "板栗丰产栽培与病虫害防治，栗园修剪", ("cash_crops", "plant_protection")),
    ]
    result = Matcher(experts, ARTICLES, semantic=False).match("板栗树上栗瘿蜂多得很 枝条上全是瘤子", top=2)
    assert "beekeeping" not in result.domains.codes[:2]
    assert [e.id for e in result.experts][0] == "chestnut"
    assert [t.canonical for t in subjects_in("板栗树上栗瘿蜂多得很")] == ["板栗"]
    plum = Matcher(experts, ARTICLES, semantic=False).match("蜂糖李叶子上好多小虫", top=2)  # a plum, not a bee
    assert plum.domains.shares().get("beekeeping", 0.0) < 0.05


def test_the_grower_is_asked_about_a_disease_before_who_stores_or_sells_the_crop():
    """Who stores or sells kiwifruit names the kiwifruit too, but is no one to ask about its canker."""
    experts = [
        Profile("cold-store", "猕猴桃采后冷藏保鲜与贮藏期烂果控制", ("processing", "fruit")),
        Profile("seller", "猕猴桃电商销售与品牌包装", ("ecommerce", "fruit")),
        Profile("orchard", "猕猴桃建园与整形修剪，果园病虫害绿色防控", ("fruit",)),
    ]
    assert ranked(experts, "猕猴桃枝干流红水 是不是溃疡病")[0] == "orchard"


@pytest.mark.parametrize(("need", "problem"), [
    ("玉米叶片上长了长条形的灰褐色大斑", "大斑病"), ("土太酸了 茶树长不旺 咋个改良", "土壤酸化"),
    ("小麦一片一片死苗 扒开看根茎被咬断了 土里有白色弯弯的虫子", "蛴螬"),
    ("羊子拉希 不吃草咋办啊 急", "羊梭菌病"),  # 拉希 typed for 拉稀
])
def test_signs_in_farmers_words_suggest_the_problem(need: str, problem: str):
    assert problem in suggested_problems(need, frozenset(t.canonical for t in subjects_in(need)))


def test_a_question_about_a_product_fault_sends_no_one_to_diagnose_a_plant():
    """"帮忙看下" about shrink marks on plastic buckets asks the factory's engineer, not the crop lab."""
    experts = [LAB, Profile("moulding", "注塑工艺参数调整，缩痕、飞边等缺陷分析", ("manufacturing",))]
    result = Matcher(experts, ARTICLES, semantic=False).match("我们厂做那种塑料桶 表面好多缩痕 帮忙看下工艺咋调", top=2)
    assert result.domains.codes[0] == "manufacturing"
    assert [e.id for e in result.experts] == ["moulding"]


def test_an_article_on_what_the_crop_is_a_kind_of_is_shown():
    """A 脐橙 is a 柑橘: the citrus greening article answers the navel-orange grower; a pear article never does."""
    articles = [Profile("greening", "柑橘黄龙病识别与防控，柑橘木虱防治", ("fruit", "plant_protection")),
                Profile("pear", "梨树黄叶病与缺铁", ("fruit",))]
    experts = [Profile("citrus", "柑橘黄龙病防控与木虱监测", ("fruit", "plant_protection"))]
    shown = Matcher(experts, articles, semantic=False).match("脐橙叶片斑驳黄化 园里见过木虱 是黄龙病吗").articles
    assert [a.id for a in shown] == ["greening"]


@pytest.mark.parametrize("need", ["芒果上全是黑斑 摘下来放几天就烂", "石榴快熟的时候裂果裂得好凶 去年卖不脱烂了一地"])
def test_a_trouble_that_cost_a_sale_is_still_a_growers_question(need: str):
    """"放几天就烂", "卖不脱" tell what the disease or the split cost, not whom to ask: the fruit domain leads."""
    experts = [Profile("orchard", "芒果石榴病虫害防治与栽培管理", ("fruit", "plant_protection")),
               Profile("seller", "水果电商与社区团购", ("ecommerce",)),
               Profile("cold-store", "水果采后冷藏保鲜", ("processing",))]
    result = Matcher(experts, ARTICLES, semantic=False).match(need, top=3)
    assert result.domains.codes[0] == "fruit" and result.experts[0].id == "orchard"


@pytest.mark.parametrize("caption", ["拍了几张照片 麻烦看看", "老师帮看下 急", "你看看这个", "刚拍的，叶子上全是这种斑，请帮忙诊断下"])
def test_a_request_to_look_at_a_photo_goes_to_who_diagnoses(caption: str):
    experts = [LAB, Profile("pigs", "生猪养殖与猪病防治", ("pig",)),
               Profile("pig-house", "猪舍通风与环控，热应激诊断", ("pig",))]
    assert [e.id for e in Matcher(experts, ARTICLES, semantic=False).match(caption, top=1).experts] == ["lab"]


def test_a_question_that_names_nothing_also_reaches_who_teaches_to_tell_pests_apart():
    """"看哈这个叶子咋个了" with a photo: besides the lab, the expert who trains people to tell pests and diseases apart
    (识虫、查病), before a specialist of one crop."""
    experts = [
        Profile("forecaster", "农作物病虫测报与识虫、查病培训", ("plant_protection",)),
        Profile("clubroot", "十字花科根肿病发生规律与防控，石灰调酸与抗病品种", ("plant_protection", "vegetables")),
    ]
    assert ranked(experts, "看哈这个叶子咋个了 急得很")[0] == "forecaster"


@pytest.mark.parametrize("caption", ["这是啥病", "这是什么病？", "咋回事哦"])
def test_a_disease_question_that_names_nothing_reaches_who_teaches_to_tell_pests_apart(caption: str):
    """"这是啥病" says it is a disease but not of what: the 识虫、查病 teacher is as fitting as with a bare "咋个了",
    before the weed specialist whose profile happens to say 诊断."""
    experts = [
        Profile("forecaster", "农作物病虫测报与识虫、查病培训", ("plant_protection",)),
        Profile("weeds", "稻田杂草化学防除，除草剂药害诊断与补救", ("plant_protection",)),
    ]
    assert ranked(experts, caption)[0] == "forecaster"


def test_a_tea_variety_reads_the_tea_gardens_articles():
    """福鼎大白 is a tea bush: frost on its buds is answered by the tea garden's frost article (about 茶树, once
    no other crop's)."""
    assert "茶树" in lineage("福鼎大白茶")
    articles = [Profile("frost", "茶园倒春寒防冻：茶芽变红变焦，茶蓬覆盖遮阳网", ("tea",))]
    experts = [Profile("tea", "茶园管理与春茶采摘", ("tea",))]
    shown = Matcher(experts, articles, semantic=False).match("茶叶嫩芽冻红了还能采吗 品种是福鼎大白").articles
    assert [a.id for a in shown] == ["frost"]


def test_forage_crops_are_kinds_of_forage():
    """苜蓿 and 黑麦草 are both 牧草: a forage team answers an alfalfa question as kin, a ryegrass hand as a
    sibling, neither as another crop's specialist."""
    assert kinship("紫花苜蓿", "牧草") == KIN
    assert kinship("紫花苜蓿", "披碱草") == SIBLING


@pytest.mark.parametrize("need", ["橘子裂口", "春见果子快转色了，最近裂了不少，一下雨就裂"])
def test_split_fruit_goes_to_who_prevents_splitting(need: str):
    """A fruit that splits is 裂果 however it is said, and its grower wants the one who prevents it."""
    experts = [Profile("greening", "柑橘黄龙病识别与防控，防治木虱", ("fruit",)),
               Profile("splitting", "不知火栽培，花果管理与裂果防控", ("fruit",))]
    assert ranked(experts, need)[0] == "splitting"


@pytest.mark.parametrize(("need", "who"), [
    ("黄颡鱼头顶上烂了个洞，游得慢，这几天死了不少", "fish-vet"),  # 裂头病
    ("母猪配了几次都反情，是怎么回事", "breeding-vet"),  # 返情 typed by sound
])
def test_signs_farmers_describe_reach_who_names_the_disease(need: str, who: str):
    experts = [Profile("fish-farmer", "池塘养殖黄颡鱼，投喂管理与饲料系数控制", ("aquaculture",)),
               Profile("fish-vet", "鱼类病害诊断，黄颡鱼裂头病、烂鳃病防控", ("aquaculture",)),
               Profile("pig-feed", "母猪饲喂与背膘管理", ("pig",)),
               Profile("breeding-vet", "母猪繁殖障碍诊断，蓝耳病与伪狂犬病防控", ("pig",))]
    assert ranked(experts, need)[0] == who
