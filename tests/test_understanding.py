"""Reading farmers' words without a trained model: the gazetteer of named things, the need-evidence
reading that keeps questions from falling through as greetings, and the sentence-encoder featurizer."""

from __future__ import annotations

import numpy as np
import pytest

from exchange.matching.subjects import gazetteer, is_open_question, subjects_in, things_in
from understanding.need_evidence import (
    asks_after_a_request,
    asks_how_to_use,
    other_purpose,
    reading,
    reports_advice_followed,
    thanks_only,
    unfounded,
    wants_material,
)


@pytest.mark.parametrize(("text", "subject"), [
    ("我家母猪发烧", "母猪"), ("我家的猪不吃食", "猪"), ("屋头的洋芋叶子黄了", "洋芋"),
    ("红苕啥时候栽", "红苕"), ("苞谷长虫了", "苞谷"), ("儿菜起苔了咋办", "儿菜"), ("豌豆尖打啥药", "豌豆尖"),
])
def test_the_subject_is_the_crop_or_animal_the_farmer_named(text: str, subject: str):
    assert subjects_in(text)[0].name == subject


@pytest.mark.parametrize(("text", "subject"), [
    ("玉米大豆带状复合种植 除草剂咋个打", "玉米"), ("水库里放鲢鱼鳙鱼 比例咋个定", "鲢鱼"),  # a pair: the first
    ("红阳猕猴桃溃疡病", "猕猴桃"), ("伊拉兔仔兔拉稀", "仔兔"),  # a variety or breed before its head: the head
    ("副猪嗜血杆菌病怎么治", "猪"), ("羊口疮用什么药", "羊"),  # the animal inside its disease's name
    ("鸡场大肠杆菌反复发", "鸡"), ("稻田养鱼 打药会不会把鱼药死", "鱼"),  # what a site keeps, after what is named
    ("想建个钢架大棚 一亩造价好多钱", "钢架大棚"),  # a site is the subject of a question about the site
])
def test_pairs_hosts_and_sites_give_the_subject_a_farmer_means(text: str, subject: str):
    assert subjects_in(text)[0].name == subject


def test_a_greenhouse_is_not_the_subject_of_a_pest_question():
    assert subjects_in("白粉虱用烟剂好还是喷雾好 大棚里") == []
    assert gazetteer()["茶园"].domains == ("tea",)  # a site points to its own domain, not to machinery


def test_a_regional_name_carries_its_standard_name_and_domain():
    potato = gazetteer()["洋芋"]
    assert potato.canonical == "马铃薯" and potato.label == "洋芋（马铃薯）" and potato.domains[0] == "grain_oil"
    assert gazetteer()["青菜头"].domains[0] == "vegetables"


def test_pests_and_drugs_are_evidence_but_not_the_subject():
    assert {t.kind for t in things_in("多菌灵和磷酸二氢钾可以混用吗")} <= {"agrochemical", "fertilizer"}
    assert things_in("斜纹夜蛾的防治怎么用药") and subjects_in("斜纹夜蛾的防治怎么用药") == []


@pytest.mark.parametrize(("intent", "text"), [
    ("help", "蚜虫用什么药效果好"), ("affirm", "多菌灵和磷酸二氢钾可以混用吗"), ("greet", "请问老师这是什么病害"),
    ("check_status", "土豆啥时候种合适"), ("check_status", "帮我看看这个番茄是咋回事"),
    ("greet", "老师你好，我家辣椒叶子卷起来了，谢谢"), ("inform", "8月中旬种的，冲了两次尿素，每亩20斤，现在叶子边边发黄"),
    ("nlu_fallback", "这是什么病？"), ("nlu_fallback", "番茄"), ("out_of_scope", "是洋芋"),
    ("deny", "微耕机启动不了"), ("deny", "鱼塘水发绿"),  # a fault is no "no"
    ("out_of_scope", "苹果不上色"), ("out_of_scope", "石榴裂得好凶哦 钙也打了"),  # what a crop will not do, a split
    ("out_of_scope", "我们这里那个油才 开了花不结籽"),  # a crop named only by a homophone is still named
    ("register", "想给自家的花椒注册个商标 咋个弄"), ("register", "茶叶合作社想做有机认证 要几年"),  # a firm's
    ("inform", "冷库建多大合适"),  # 多大 asks
    ("out_of_scope", "太阳能杀虫灯一亩地装几盏"), ("register", "厂里想上个机械手 要好多钱"),  # 好多钱: how much
])
def test_a_question_read_as_chit_chat_is_read_as_a_need(intent: str, text: str):
    assert reading(intent, text)


@pytest.mark.parametrize(("intent", "text"), [
    ("greet", "老师你好"), ("thank", "谢谢老师"), ("affirm", "对，是猪"), ("deny", "不是，是牛"), ("check_status", "上次问的猪的事有结果没"),
    ("ask_science", "有没有讲猪瘟的资料"), ("subscribe", "每周给我推送柑橘的知识"), ("describe_need", "猪发烧"),
    ("register", "我养猪的 想注册"), ("greet", "/greet"), ("thank", "谢谢你们 我屋头的鸡好了"),
])
def test_greetings_answers_and_purposeful_intents_keep_their_reading(intent: str, text: str):
    assert not reading(intent, text)


def test_open_questions_are_recognised_without_a_named_thing():
    assert is_open_question("这是什么病？") and is_open_question("叶子这样是咋回事")
    assert not is_open_question("你好") and not is_open_question("我的需求到哪一步了")


def test_the_featurizer_adds_one_dense_sentence_vector_per_message(tmp_path):
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.message import Message

    from understanding.featurizer import SentenceEncoderFeaturizer

    featurizer = SentenceEncoderFeaturizer.create(
        SentenceEncoderFeaturizer.get_default_config(), LocalModelStorage(tmp_path), Resource("encoder"),
        ExecutionContext(GraphSchema({}), "test"))
    pig, sick_pig, greeting = (Message(data={"text": t}) for t in ("我家猪不吃食", "猪儿发烧不吃东西", "你好呀"))
    featurizer.process([pig, sick_pig, greeting])
    sequence, sentence = pig.get_dense_features("text")
    assert sequence is None and sentence.features.shape == (1, 512)
    vectors = [m.get_dense_features("text")[1].features[0] for m in (pig, sick_pig, greeting)]
    assert float(np.dot(vectors[0], vectors[1])) > float(np.dot(vectors[0], vectors[2]))


def test_the_nlu_and_the_matcher_share_one_encoder_and_its_recent_vectors():
    """The pipeline names its encoder, the matcher asks for the default: one model in memory, and a need
    embedded when it arrives is not embedded again at its read-back."""
    from exchange.matching import encoder

    assert encoder.load() is encoder.load(encoder.DEFAULT_ENCODER)


def test_a_process_with_the_encoder_keeps_numpys_blas_at_one_thread():
    """Started without OMP_NUM_THREADS (a bare `kejibang run`), OpenBLAS would split each scoring call
    over every core and its extra thread would then spin between messages: a whole core burnt."""
    import os
    import subprocess
    import sys

    from kejibang.settings import PROJECT_ROOT

    script = ("import numpy, threadpoolctl\n"
              "from exchange.matching import encoder\n"
              "encoder.load().embed(['我家母猪发烧'])\n"
              "print(max(p['num_threads'] for p in threadpoolctl.threadpool_info()))\n")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    ran = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                         timeout=300)
    assert ran.stdout.strip().splitlines()[-1:] == ["1"], ran.stderr[-2000:]


@pytest.mark.parametrize(("text", "wanted"), [
    ("有没有讲猕猴桃溃疡病的资料 发几篇我看看", True), ("小龙虾咋养 有没有入门教程", True),
    ("猕猴桃溃疡病用啥药", False), ("我家猪发烧", False),
    ("想买台插秧机 补贴要准备哪些材料", False),  # the papers of an application, not reading matter
    ("想在网上卖自家的腊肉 短视频咋个剪", False), ("橙子想拿去直播卖 视频拍不好", False),  # a seller's videos
    ("申请补贴需要填些什么资料", False),  # papers to fill in
])
def test_a_need_that_asks_for_reading_matter_gets_science(text: str, wanted: bool):
    assert wants_material("describe_need", text) is wanted
    assert not wants_material("subscribe", text)  # "以后有科普就发给我" stays a subscription


@pytest.mark.parametrize(("intent", "text"), [
    ("thank", "鱼儿不浮头了 谢谢你们哈"), ("thank", "猪儿不拉稀了，感谢老师"), ("thank", "鸭子不再咳嗽 多谢专家"),
    ("thank", "牛儿发烧退了，谢谢哈"), ("thank", "兔子拉肚子好多了 谢谢老师"), ("thank", "辣椒叶子不发黄了 感谢"),
    ("thank", "蚜虫没得了 多谢老师"), ("thank", "没得红蜘蛛了，谢谢你们"), ("thank", "黄瓜霜霉病治好了 谢谢"),
    ("thank", "羊子再没拉稀了 辛苦老师了"), ("inform", "打了药过后鸡不拉稀啦"), ("affirm", "对头，鱼塘不泛塘了"),
    ("thank", "多谢老师 按你说的拌了多菌灵 秧苗都立起来了"),  # the advice followed: the drug is the treatment done
])
def test_a_thanks_that_reports_the_problem_gone_keeps_its_reading(intent: str, text: str):
    assert not reading(intent, text)


@pytest.mark.parametrize(("intent", "text"), [
    ("thank", "谢谢老师，鸡不下蛋了"), ("thank", "猪儿不吃食了 咋个办"), ("thank", "辣椒不开花了 谢谢哈"),
    ("thank", "牛不反刍了，多谢"),  # a lost function names its own 不: a problem, not an outcome
    ("thank", "鱼儿不浮头了吗"), ("thank", "猪还拉不拉稀了"), ("thank", "蚜虫没得了 红蜘蛛咋个打"),  # asking
    ("thank", "谢谢，猪儿还是在拉稀"), ("thank", "鸡不拉稀了 又开始咳嗽 谢谢"),  # still there, or a new problem
    ("thank", "蚜虫好多了 多谢"),  # 好多 of a pest is "many", not "much better"
])
def test_a_problem_still_there_or_asked_about_is_still_a_need(intent: str, text: str):
    assert reading(intent, text)


@pytest.mark.parametrize("text", ["蟹蟹", "蟹蟹你", "蟹蟹老师", "蟹蟹啦！", "谢谢啦", "3q"])
def test_thanks_typed_by_sound_is_no_crab(text: str):
    assert not reading("thank", text)


@pytest.mark.parametrize(("intent", "text"), [
    ("thank", "螃蟹死了好多 咋办"), ("inform", "蟹塘水发黑"), ("greet", "老师好，河蟹长不大是啥原因"),
    ("thank", "蟹蟹老师，我塘头的螃蟹脱不了壳咋个办"),  # a thanks by sound before a crab question
])
def test_crab_needs_are_still_needs(intent: str, text: str):
    assert reading(intent, text)


@pytest.mark.parametrize(("intent", "text"), [
    ("help", "橙子树冬天还能嫁接不"), ("help", "番茄苗能移栽了？"), ("ask_science", "鸭棚里铺锯末面面要得不"),
    ("request_human", "羊粪没发酵能直接上果树不"), ("register", "养蜂要办啥子证 蜜蜂"),
    ("more_experts", "鸡瘟有没得特效药"), ("check_status", "鸭苗多久打一次疫苗"),
    ("nlu_fallback", "我家橘子树皮烂了 一摸软软的 流黄水水"),
    ("affirm", "鸭子眼睛发红"), ("greet", "兔子耳朵起疙瘩"), ("affirm", "草鱼身上发黑"),  # a sign seen is a question
    ("greet", "微耕机老是打不着火"), ("thank", "插秧机的秧爪卡住了"),  # a machine's fault is a question too
    ("deny", "木耳菌包不出耳"),  # what a crop will not do is a sign
    ("thank", "按你说的打了吡虫啉 蚜虫咋个还是那么多"),  # the advice followed, and asking again
])
def test_a_farm_question_in_everyday_words_is_a_need_whatever_it_was_read_as(intent: str, text: str):
    """Yes-no questions ending in 不, a question mark, 有没得, and a named crop or animal the classifier
    could not place: the farmer gets the read-back, not a menu."""
    assert reading(intent, text)


@pytest.mark.parametrize(("intent", "text"), [
    ("request_human", "转人工 我家猪的事说不清楚"), ("register", "我要注册 我是养鸡的"),
    ("more_experts", "换个专家嘛 猪的事"), ("check_status", "我问的鸭子那个事 多久才有人回"),
    ("check_status", "上回问的茶叶加工 找到没"), ("check_status", "我那个海椒黄叶的问题 现在啥情况"),
    ("help", "你们这个是干啥的 都能问些啥问题"), ("help", "你这个机器人能帮我做啥子"),
    ("thank", "猪儿好了 谢谢"), ("nlu_fallback", "今天天气好热"),
])
def test_requests_with_their_own_words_keep_their_reading(intent: str, text: str):
    assert not reading(intent, text)


@pytest.mark.parametrize("text", ["屋头网线老是断 村里就我一家 有没有办法", "收了三万块定金 买家跑了 现在咋个办"])
def test_an_unplaced_message_asking_what_to_do_is_a_need(text: str):
    assert reading("nlu_fallback", text)


@pytest.mark.parametrize(("intent", "text", "status"), [
    ("nlu_fallback", "帮我找的专家有回音没", True), ("nlu_fallback", "上周那个事 现在啥子情况了", True),
    ("nlu_fallback", "今天天气好热", False), ("greet", "专家有反馈了吗", False),
])
def test_an_unplaced_message_asking_after_a_request_gets_the_status(intent: str, text: str, status: bool):
    assert asks_after_a_request(intent, text) is status


@pytest.mark.parametrize(("text", "status"), [
    ("我的需求交上去了吗 提交成功没得", True), ("等了三天了 专家看了没", True),
    ("猪拉稀的问题专家回了没", False),  # names the pig, and points back at nothing: kept as read
    ("这个叶子是什么情况", False),        # asks about a photo
    ("我那个海椒烂根的问题 现在啥情况", True), ("上回问的鸡的事 有结果没", True),  # pointing back at a question sent
    ("上回问的鸡拉稀的事 现在又拉了 咋个办", False),  # asks what to do again: a need
    ("上礼拜报的那个鸭子的事 专家看了没", True), ("前段时间问的花椒的问题 有人接了没得", True),
    ("俺前些天问的麦子生虫那事 有信儿没", True), ("5号问过葡萄裂果的事 有消息没得", True),
    ("我给鸡场找兽医那个单子办到哪一步了", True), ("你们是能直接找到养猪专家吗", False),  # what it does
])
def test_a_need_reading_with_nothing_of_a_need_in_it_that_asks_after_a_request_gets_the_status(text, status):
    assert asks_after_a_request("describe_need", text) is status


@pytest.mark.parametrize(("text", "help_"), [
    ("照片咋个发给你们", True), ("这上面能问些啥", True), ("柑橘的照片咋发", False),
    ("你们都能帮我做些啥子", True), ("怎么把相片发过去给老师看", True),
])
def test_a_need_reading_that_asks_how_to_use_the_assistant_gets_the_help(text, help_):
    assert asks_how_to_use("describe_need", text) is help_


@pytest.mark.parametrize(("text", "founded"), [
    ("每个礼拜给我发点养鸭的", True), ("别再给我推了", True), ("把柑橘的也加上", True), ("/subscribe", True),
    ("瘟肥\x11猪\x08\x08鸡\x1b[31m红字\x1b[0m", False), ("\u202e安逸\u200d鸭\u0336\u0337", False),
])
def test_a_subscription_is_written_only_for_words_of_subscribing(text: str, founded: bool):
    assert unfounded("subscribe", text) is not founded


@pytest.mark.parametrize(("text", "thanks"), [
    ("专家打电话来了 事情办妥了 辛苦你们了", True), ("多谢 麻烦你们了", True), ("要得要得 多谢了哈 巴适得很", True),
    ("谢谢 我家鸡还在拉稀", False), ("谢谢 想问下猪几月配种好", False),  # a need, or a question, after the thanks
])
def test_a_message_that_only_thanks_is_a_thanks(text: str, thanks: bool):
    """Whether the classifier could not place it or took it for a need."""
    assert thanks_only("nlu_fallback", text) is thanks
    assert thanks_only("describe_need", text) is thanks


def test_a_thanks_with_a_request_read_as_a_need_stays_a_need():
    assert not thanks_only("describe_need", "谢谢老师 帮我找个专家")


def test_an_unplaced_message_asking_for_reading_gets_science():
    assert wants_material("nlu_fallback", "给我推点养兔子的资料 想学一下")


@pytest.mark.parametrize(("text", "outcome"), [
    ("谢谢专家 按你说的喂了药 兔子今天活泛了", True), ("感谢你们找的老师 玉米的病总算控住了", True),
    ("谢谢老师，按您说的办法弄了，猪已经开始吃食了", True),  # the advice named (办法) is no question
    ("谢谢老师 照你说的打了药 辣椒叶子还是发黄", False),  # a sign still there
    ("感谢 照你们说的做了 下一步该咋个弄", False),  # asking the next step
    ("上回说的那个法子管用 我的海椒现在好了 谢谢你们", True),  # looking back at the advice is no status question
    ("鸡现在不拉稀了 谢了哈老师", True),  # the problem reported gone
    ("上次说的覆膜晒韭蛆那个法子真管用，今年韭菜没打药也没长蛆，谢谢啦", True),
    ("谢谢老师 鸡不拉稀了 又开始咳嗽", False),  # a problem still there beside the one gone
])
def test_thanks_for_advice_followed_is_an_outcome_not_a_new_need(text: str, outcome: bool):
    assert reports_advice_followed("describe_need", text) is outcome
    assert reports_advice_followed("check_status", text) is outcome
    assert reports_advice_followed("delete_my_data", text) is outcome  # never read as a deletion either
    assert not reading("inform", text) if outcome else True


def test_a_new_matter_raised_beside_a_look_back_is_a_need():
    """"谢谢上回回我，我还想问个事": the 上回 and 回我 of a status question, then a new need about the chickens."""
    text = "谢谢你们上回回我 那个我还想问个事 我们林下放的土鸡 这几天老鹰来叼 一天少两三只 有没有啥子好办法"
    assert reading("check_status", text)
    assert not reading("check_status", "上回问的土鸡那个事 有专家回我没有")


def test_a_photo_of_an_animal_sent_with_you_look_is_a_need():
    assert reading("out_of_scope", "你看我屋猪儿")


@pytest.mark.parametrize("text", [
    "看了好多抖音视频都说得不一样，能不能直接帮我找个懂柠檬的专家，我的柠檬树一开花就掉",  # an expert asked for
    "你们推送的柑橘文章我都看了，但是我家果子还是裂得凶，想找专家来园子里看看",
    "视频号里教的沼气池我照着修了 不产气 咋回事",  # material already seen
    "先别删我资料哈，还有事要问：烟叶烤出来挂灰是咋回事",  # the person's own 资料
])
def test_material_named_but_not_asked_for_leaves_a_need_a_need(text: str):
    assert not wants_material("describe_need", text)


def test_material_asked_for_is_still_science():
    assert wants_material("describe_need", "有没有讲猕猴桃溃疡病的资料 发我看看")


@pytest.mark.parametrize("text", ["谢谢专家！猪儿打了针今天已经开始吃食了，精神也好多了",
                                  "感谢龚老师，按您说的控水以后血橙没怎么裂了，今年卖了个好价钱",
                                  "太感谢了老师 鸡不咳了 蛋也开始多起来了"])
def test_thanks_telling_the_animal_or_crop_is_well_again_is_an_outcome(text: str):
    assert reports_advice_followed("describe_need", text)


def test_a_need_said_again_after_a_look_back_is_a_need():
    text = "我那个鱼塘的问题还没人回，我再说一遍：草鱼鳃丝发白烂了，每天死十几条"
    assert not asks_after_a_request("describe_need", text)
    assert asks_after_a_request("describe_need", "俺那个大棚黄瓜的事儿您给问了没有啊，咋一直没个信儿呢")


@pytest.mark.parametrize("text", ["我想问下这个科技帮能帮我们养猪的做啥子，是不是要收钱的", "老师，这个平台种果树的人能用吗？怎么提问题？"])
def test_asking_what_the_assistant_does_is_help_even_naming_a_farm(text: str):
    assert asks_how_to_use("describe_need", text)
    assert not reading("help", text)


@pytest.mark.parametrize(("intent", "text", "purpose"), [
    ("describe_need", "咋个加入你们嘛 我养了二十几头牛", "register"),
    ("check_status", "定阅蔬菜病虫害的消息", "subscribe"),
    ("describe_need", "王者农药怎么上分", "out_of_scope"),  # a game, not a pesticide
    ("describe_need", "我侄女下个月结婚，那边随礼一般随好多？你帮我出个主意", "out_of_scope"),
    ("describe_need", "我养了二十几头牛 咋个加入你们 牛拉稀了", None),  # a sign: the need comes first
    ("check_status", "上周订阅的柑橘那个问题 专家回复没", None),  # asking after a request
])
def test_a_need_or_status_reading_with_another_purpose_in_its_words(intent: str, text: str, purpose: str | None):
    assert other_purpose(intent, text) == purpose


@pytest.mark.parametrize(("intent", "text", "purpose"), [
    ("describe_need", "帮我算个命嘛，看我今年属相适不适合养猪", "out_of_scope"),  # a pig named, fortune asked
    ("describe_need", "谢谢你的回答哈，但是我这个情况有点复杂，还是想跟你们的工作人员直接通个电话", "request_human"),
    ("describe_need", "我们村要建个人工湿地处理污水，能不能请专家指点", None),  # 人工 of 人工湿地 asks no person
    ("check_status", "行 那我等消息 先下线了", "goodbye"),
    ("check_status", "我帮我们组上的刘嬢嬢报个名，她种魔芋的", "register"),
    ("nlu_fallback", "哥子些好哇，吃了没得", "greet"),  # 哥子 (folks) is no 鸽子
    ("nlu_fallback", "算了 不要给我推专家了", "deny"),
])
def test_more_purposes_read_from_their_own_words(intent: str, text: str, purpose: str | None):
    assert other_purpose(intent, text) == purpose


def test_off_topic_chat_naming_a_phone_stays_off_topic():
    assert not reading("out_of_scope", "我手机话费咋个扣了这么多")
    assert reading("out_of_scope", "手机拍的 这个苞谷叶子上的斑是啥病")  # a farm's trouble is a need


def test_a_number_of_animals_asks_nothing():
    """几十只 and 二十几头 are numbers: a greeting that tells how many sheep is still a greeting."""
    assert not reading("greet", "老师们好，我是巴中的，屋头养了几十只羊，以后多请教")
    assert reading("greet", "老师好 羊几天能出栏")


@pytest.mark.parametrize("text", ["关于我合作社3月12日提交的茶园倒春寒受冻问题，请问是否已安排专家对接？盼复。",
                                  "喂 那个核桃黑斑病的问题后来有专家接没得嘛，都一个礼拜了"])
def test_formal_and_dialect_status_questions(text: str):
    assert asks_after_a_request("describe_need", text) or not reading("check_status", text)


@pytest.mark.parametrize("text", ["xie xie lao shi，鸡好多了，今天下了两个蛋",
                                  "感谢贵平台及蒋老师对我社鸭场疫病防控工作的悉心指导，目前鸭群已恢复正常产蛋，特此致谢。"])
def test_thanks_in_pinyin_or_official_words_reporting_an_outcome(text: str):
    assert reports_advice_followed("describe_need", text)


@pytest.mark.parametrize("text", ["不是要文章，我想直接找个懂猕猴桃的老师，我园子里好多树叶子边边都焦了",
                                  "视频里说的那个稻鸭共育我想试一下，鸭子啥时候放进田里合适，有没有专家指导下"])
def test_a_teacher_asked_for_beside_material_is_a_need(text: str):
    assert not wants_material("describe_need", text)


@pytest.mark.parametrize(("intent", "text", "purpose"), [
    ("describe_need", "我想在你们这登记成专家，我养中蜂养了二十几年了", "register"),
    ("greet", "大家下午好，刚加进来，种柑子的，多多关照哈", None),  # joined a group: a greeting
    ("greet", "不打扰了，老师早点休息", "goodbye"),
    ("describe_need", "晚上好呀，忙完地里的活了，来看看", "greet"),
    ("check_status", "打字太麻烦了，能不能有个人打电话过来？我那个猪的事情三两句说不清楚", "request_human"),
    ("nlu_fallback", "rengong kefu", "request_human"),
])
def test_purposes_from_tune9(intent: str, text: str, purpose: str | None):
    assert other_purpose(intent, text) == purpose


@pytest.mark.parametrize(("text", "helps"), [
    ("找专家收钱不？要不要先交啥子费", True), ("你们这个能不能找养牛的专家？还是只管种地的？", True),
    ("我是种茶的，你们这个对我有啥子用？", True),
    ("您好，打扰了，想问下测土配方去哪里测，要不要钱", False),  # the cost of a soil test is a need
    ("你们这个app上能找到会看牛病的不？我家母牛下了崽以后就站不起来了", False),
])
def test_what_the_assistant_costs_or_does(text: str, helps: bool):
    assert asks_how_to_use("describe_need", text) is helps


def test_an_unplaced_look_back_asking_after_it_is_a_status_question():
    text = "老师，我前两天问嘞那个母猪不下崽嘞事，有回信没得？等得心焦"
    assert not reading("nlu_fallback", text) and asks_after_a_request("nlu_fallback", text)


@pytest.mark.parametrize("text", ["奶奶叫我跟你们说声谢谢！鸡按专家说的打了疫苗，这几天一只都没再死了",
                                  "太感谢了！！鱼塘的鱼保住了，昨晚差点全军覆没😭"])
def test_these_days_and_wiped_out_ask_nothing(text: str):
    """这几天 is a span, 全军覆没 no yes-no question: both thanks report an outcome."""
    assert reports_advice_followed("describe_need", text)


@pytest.mark.parametrize(("intent", "text", "purpose"), [
    ("describe_need", "帮我看下这期双色球买啥子号嘛", "out_of_scope"),  # "帮我看下" asks about a lottery, not a farm
    ("register", "算了，不登记了", "deny"),
    ("greet", "有人没得嘛？我是说能好好跟我摆几句的人，不是机器", "request_human"),
    ("thank", "xiang zhao ge zhen ren liao liao", "request_human"),  # pinyin typed without choosing characters
    ("thank", "wo yao zhu xiao zhang hao ba wo xin xi shan le", "delete_my_data"),
    ("greet", "guo shu jia jie you mei you shi pin jiao cheng", "ask_science"),
    ("describe_need", "我想订个专家长期帮我看羊肚菌大棚，今年出菇少还畸形", None),  # an expert, not a subscription
])
def test_purposes_from_tune10(intent: str, text: str, purpose: str | None):
    assert other_purpose(intent, text) == purpose


def test_someone_asked_to_teach_a_named_craft_is_a_need():
    assert reading("request_human", "想找个人教我做腊肉不加亚硝酸盐，要拿去卖的那种，还要办啥子证")
    assert not reading("request_human", "找个人跟我说 机器说不清楚")


def test_a_need_asked_again_after_no_answer_is_a_need():
    text = "上礼拜问了小麦的事没回我，算了，重新问：小麦叶子上有黄色的粉，一条一条的"
    assert not asks_after_a_request("describe_need", text)


def test_thanks_in_english_letters_and_advice_that_worked():
    assert reports_advice_followed("describe_need", "tks，黄老师的办法很管用，玉米叶子上的虫少多了")


@pytest.mark.parametrize(("intent", "text", "purpose"), [
    ("help", "奶奶说跟你们问声好，她七十多了第一次用这个", "greet"),
    ("check_status", "莫得，还没打过药", "deny"),  # answering a question, not asking after a request
    ("check_status", "没有，我那个问题到现在都没人回", None),
    ("nlu_fallback", "有没有一个能好好跟我说话的人在，我说了半天你都不懂", "request_human"),
])
def test_purposes_from_tune11(intent: str, text: str, purpose: str | None):
    assert other_purpose(intent, text) == purpose


def test_already_registered_then_a_question_is_a_need():
    assert reading("register", "我已经注册好了，现在想问：我的鸭子眼睛肿还流泪，脚也软")


def test_a_status_question_in_classical_wording():
    assert asks_after_a_request("describe_need", "您好，关于我方2月14日所提交之茶树冻害咨询，请问是否已安排专家对接？")


@pytest.mark.parametrize("text", ["感恩🙏🙏 鱼塘现在不浮头了", "我爷爷叫我打字：谢谢你们上次派来的刘老师，柑子树今年结得好得很"])
def test_more_thanks_reporting_an_outcome(text: str):
    assert reports_advice_followed("describe_need", text)


def test_asking_whether_the_assistant_recognises_diseases_in_photos_is_help():
    assert asks_how_to_use("describe_need", "我发照片过去你们认得出是啥病不")
    assert not asks_how_to_use("describe_need", "我发照片过去了 你们看看这个苞谷叶子是啥病")


@pytest.mark.parametrize(("text", "purpose"), [
    ("电视上说猪肉又涨了，我们这边菜市场都卖到十八了，你那边好多钱一斤", "out_of_scope"),
    ("你晓得今天猪肉好多钱一斤不，电视上说的跟菜市场不一样", "out_of_scope"),
    ("我的橙子你们那边收好多钱一斤", None),  # asking a buyer's price is a selling need
    ("电视上说猪价要涨了，我该不该现在补栏？想找个懂行情的帮我分析一下", None),
])
def test_chatting_about_meat_prices_elsewhere_is_off_topic(text: str, purpose: str | None):
    assert other_purpose("describe_need", text) == purpose


@pytest.mark.parametrize(("intent", "text", "need"), [
    ("greet", "你好你好，想请个专家看哈我的花椒树，树干上冒胶，一坨一坨的", True),
    ("subscribe", "上次订阅的花椒知识都看了，还是不晓得青花椒咋个修剪矮化，想约个老师指导", True),
    ("greet", "老师们好，我是巴中的，屋头养了几十只羊，以后多请教", False),  # regards, not a question
    ("ask_science", "想学学柑橘冬天怎么修剪清园，有没有视频或者资料推荐？不用找专家，我自己看", False),
])
def test_an_expert_wanted_for_a_named_crop_is_a_need(intent: str, text: str, need: bool):
    assert reading(intent, text) is need


@pytest.mark.parametrize("text", ["感谢感谢 羊羔子吃了初乳站起来了 🙏", "谢谢老师嘞，俺家那几头牛都好利索了",
                                  "龚老师太谢谢您了，血橙今年颜色上得好，卖了个好价钱，改天请您喝茶"])
def test_thanks_from_tune12_report_outcomes(text: str):
    assert reports_advice_followed("describe_need", text)


def test_a_thanks_with_a_new_question_is_no_outcome():
    assert not reports_advice_followed("describe_need", "感谢平台，上次问的茶叶问题解决了。还有个事，今年春茶发芽晚，是不是冻到了")


def test_how_to_use_it_before_registering_is_help():
    assert asks_how_to_use("register", "你好请问这个怎么用 我要先注册还是直接问")
    assert not asks_how_to_use("register", "我隔壁张大爷也想加进来，能不能用我这个号帮他登记一下")
