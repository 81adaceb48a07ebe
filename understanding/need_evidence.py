"""Never drop a need: a message that names a crop, animal, product, pest, disease, agrochemical,
fertilizer or symptom is a need, whatever greeting, thanks or politeness surrounds it.

Statistical classifiers read "老师你好，蚜虫用什么药效果好，谢谢" as a greeting and
"多菌灵和磷酸二氢钾可以混用吗" as a yes; the farmer then gets a menu and has to guess that the
question was lost. This component runs after DIET and the FallbackClassifier and re-reads such
messages as ``describe_need`` when the text carries domain evidence (a named thing from the
gazetteer) or is a content-free farm question ("这是什么病", "咋回事"), which the read-back answers
with one clarifying question. Intents with a purpose of their own keep their reading when their
own cue words are there (a status question that names the pig is still a status question); a need
that asks for reading matter by name (资料, 教程, 科普) is a request for 科普. Not every name is evidence:
a problem reported as gone in a message that asks nothing ("鱼不浮头了 谢谢") is an outcome, and the 蟹 of
"蟹蟹" is a thanks typed by sound (``evidence_in``); a thanks for advice followed ("照专家说的撒了生石灰") names
the treatment done, and one saying the advice worked or the problem is gone ("上回说的法子管用", "鸡不拉稀了 谢了")
is an outcome even when it looks back; a new matter raised beside a look back ("我还想问个事") is a need. A message the classifier could not place at all (``nlu_fallback``) is a need when it
names a crop or an animal or asks what to do, a status question when it asks after an earlier request,
and a thanks when it only thanks. A need or a status reading whose words ask to join, to subscribe, or
about something unrelated to a farm (a game, a wedding gift, a fortune even beside a pig), or for a person, telling
of no problem, is read as that; a leave-taking read as a status question is a goodbye; asking
what the assistant itself does is help even when it names the farm. Material named as already seen, or beside
an expert asked for, is no request for 科普. A subscription read without a word of subscribing is taken as not
understood: it would be written at once.

Why rules beside the classifier: the same training data gives a different model on another machine
(most likely TensorFlow's CPU kernels rounding differently), and one such model read 0.966 of the dev set's needs as needs
where another read 0.993; with these rules the first reads 0.998 (`kejibang bench nlu --current`).
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from pypinyin import lazy_pinyin
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from exchange.matching.normalize import cjk_runs, normalize
from exchange.matching.subjects import Thing, is_open_question, located

NEED = "describe_need"
# Confidence reported for a need read from evidence rather than from the classifier's scores.
EVIDENCE_CONFIDENCE = 0.9
# Chit-chat readings that give way to evidence of a need.
YIELDING = frozenset({"greet", "thank", "goodbye", "inform", "out_of_scope", "nlu_fallback"})
# Short answers: "对，是猪" answers a question; only a longer message with evidence, or one that does not
# open with a yes or a no ("微耕机启动不了"), is a new need.
SHORT_ANSWERS = frozenset({"affirm", "deny"})
MIN_NEED_CHARS = 8
YES_OR_NO = re.compile(r"^(?:不|没|莫|别|对|是|好|行|嗯|要得|可以|算了|错|当然|没错|ok)", re.IGNORECASE)
# A sign seen on a crop or an animal, in the words farmers write one with (发白, 起斑, 烂, 不吃), and not
# reported gone (不发黄了, 再没拉稀); a split (石榴裂得好凶); or what it will not do ("苹果不上色", "母猪不发情").
SIGN = re.compile(r"(?<!不)(?<!没)(?<!不再)(?<!没再)(?<!没怎么)(?<!不怎么)"
                  r"(?:[发变][白黄黑红紫青灰]|[起长生][斑点包疙]|烂|肿|[死瘫]|不吃|拉稀|咳|流[脓血水胶]|冒胶|掉[叶果毛]|枯|蔫|"
                  r"裂|不(?:上色|着色|转色|结果|结籽|坐果|挂果|膨大|开花|发芽|出苗|长|下蛋|产蛋|发情|反刍|倒嚼|出菇|出耳|产奶|下奶))")
# Intents with a purpose of their own give way only when their own cue words are absent.
OWN_CUES = {
    "check_status": re.compile(
        r"发出去|发出|发了|回复|回音|回我|回了|回没|回信|专家回|答复|进展|进度|结果|到哪|哪一步|有人接|专家接|接没|接了|"
        r"联系我|联系了|没人理|没得人理|没得消息|没消息|在跟|等起|等得|"
        r"还没|没人|咋样了|怎么样了|如何了|多久.{0,2}(?:回|有人|答|联系|处理|才)|好久(?:了|都|还|没)|等了|处理|"
        r"上次|上回|之前|昨天|前天|前几天|那个问题|我的问题|我的需求|我发的|我问的|提交|找到没|找到了没|找到了吗|"
        r"我那个|啥情况|什么情况|啥子情况|有结果|看了没|看到没|上礼拜|上个礼拜|上周|上星期|上个星期|前段时间|前些天|"
        r"转给|派给|分给|的求助|单子|有信|有消息|问过"),
    "ask_science": re.compile(
        r"资料|视频|文章|科普|学|书|材料|知识|常识|教程|入门|手册|课程|讲座|培训|教我|认一下|长啥样|长什么样|了解"),
    "subscribe": re.compile(r"订|定阅|退定|推|每周|每天|每月|每个月|礼拜|星期|定期|关注|有新的|新文章|发给我|发我|"
                            r"不要再发|取消|加上|改成"),
    "help": re.compile(r"不会用|咋用|怎么用|咋个用|使用|功能|你能|你会|能做|能干|能问|干嘛的|干啥的|做啥的|都能帮|能帮我做|"
                       r"你这个机器人|你是机器人"),
    "request_human": re.compile(r"人工|真人|客服|志愿者|工作人员|转人|活人|找个人|找人|跟人说|和人说|人来|跟个人|"
                                r"真的专家|机器"),
    # (registering a product or a trademark, or certifying a farm, is a firm's need, not an account)
    "register": re.compile(r"(?<!商标)(?<!品牌)注册(?!.{0,2}(?:商标|品牌))|(?<!产品)(?<!肥料)(?<!农药)(?<!兽药)(?<!饲料)登记|登个记|报名|报个名|加入|入驻|"
                           r"开户|账号|帐号|实名|(?<!有机)(?<!食品)(?<!产品)(?<!sc)认证|会员|改名|换号|手机号|电话号码"),
    "more_experts": re.compile(r"换|别的|其他|其它|更多|再推|再找|另外|不满意|别个|下一个|还有.{0,4}专家|多推"),
}
# Words of a question or a problem: a thanks or a goodbye that names the pig ("鸡好了 谢谢") is still one.
# Read on normalized text (no punctuation), so a question mark is looked for in the text as written; a
# clause that ends in 不 or 没 is a yes-no question in everyday speech ("还能喂牛不", "打了药没").
ASKING = re.compile(r"吗|么|啥|什么|咋|怎|如何|是不是|多少|多大|多久|多长|多高|多深|多宽|要好多|投入好多|好多钱|"
                    # (几 of a number or a span, 几十只, 二十几头, 这几天, asks nothing)
                    r"(?<![这那好前近十百千万一二三四五六七八九两])几(?![十百千万])|哪|是否|能不能|可不可以|行不行|要不要|有没有|有没得|有莫得|"
                    r"为啥|为什么|原因|办法|(?<=\S)(?<!覆)(?<!淹)(?<!埋)(?<!出)[不没](?=\s|$)")
QUESTION_MARK = re.compile(r"[?？]")
HARDLY = re.compile(r"[没不]怎么")
# The classifier could not tell what the message is: one that names a crop or an animal is taken as a need
# (the read-back asks the farmer to confirm it, so a wrong guess costs one tap).
UNSURE = "nlu_fallback"
# ... and one that asks what to do about something ("发个货要跑20公里 有没有办法") is a need even when
# it names nothing the gazetteer knows; one that asks after an earlier request is a status question.
WHAT_TO_DO = re.compile(r"咋办|怎么办|咋个办|怎么搞|咋个搞|咋整|(?:有没有|有没得|有莫得|有啥|有啥子|有什么)(?:好)?(?:办法|法子)")
STATUS = "check_status"
HELP = "help"
# A reading that writes for the farmer at once must rest on its own words: a model has read strings of
# control characters, joiners and stray Chinese characters as subscriptions (and subscribed them).
FOUNDED_ONLY = frozenset({"subscribe"})
ASKS_AFTER_A_REQUEST = re.compile(r"发出去|回复|回音|回我|答复|进展|进度|有人接|联系我|反馈|匹配到|找到.{0,2}专家|找到没|"
                                  r"啥情况|什么情况|啥子情况|怎么样了|咋样了|到哪一步|哪一步")
# What a farmer asks about a request already sent, in words a need does not use.
# (not 啥情况: "看看这个是什么情况" asks about a photo)
SUBMITTED = re.compile(r"发出去|回复|回音|回我|答复|进展|进度|有人接|联系我|反馈|匹配到|找到.{0,2}专家|找到没|怎么样了|"
                       r"咋样了|到哪一步|哪一步|提交|发成功|发出|看了没|看到没|回了没|还没回|没回复|没人回|专家看了|"
                       r"专家回|几天了|好久了|有结果|有信|有消息|有回信|有下文|有着落|转给|派给|分给|办到|没个?信|给问了|问了没|"
                       r"专家接|接没|安排专家|对接|盼复|回没|回信|没人理|没得人理|没人管|没得消息|哪个在跟|谁在跟|等起|等得心焦")
# Pointing back at a question already sent: "我那个…的问题", "上次问的…".
REFERS_BACK = re.compile(r"(?:(?:提交|发送|反映|报送)[的之]|(?:我那个|我那|俺那个|俺那|俺们那个|上次|上回|之前|前几天|前两天|前些天|前段时间|昨天|前天|上月|"
                         r"上礼拜|上个礼拜|上周|上星期|上个星期|上个月|礼拜[一二三四五六天日]|星期[一二三四五六天日]|周[一二三四五六日])"
                         r"(?:问|发|提|报)?|问过|发过|提过|报过).{0,16}(?:问题|需求|事|求助|单子|咨询)"
                         r"|(?:那个|那张|我的)单子")
# The assistant itself, and what someone asks of it (what it does, whether it is for them, what it costs).
ABOUT_US = re.compile(r"科技帮|平台|这个号|你们这个|你们能|你们可以|你们(?=认|会)|机器人|bot|小程序|公众号|你们是|这个(?=能|怎么用|咋用)")
WHAT_IT_DOES = re.compile(r"能用|怎么用|咋用|咋个用|提问|收钱|收费|要钱|免费|能帮.{0,8}(?:做|干)(?:啥|什么|哪样)|"
                          r"能帮我?(?:啥|什么|哪样)|能做什么|能干什么|只能|只管|(?:有|对我有)(?:啥子?|什么)用|认得出|认不认得|"
                          r"做啥子的|干啥的|是干什么的|政府的|公司的")
# What asking an expert costs, asked about the assistant whoever is named ("找专家收钱不？要不要先交啥子费").
COST = re.compile(r"收钱|收费|要钱|交.{0,3}费|花钱|免费")
# Asking how to use the assistant itself.
# An expert or a teacher wanted ("想请个专家看哈我的花椒树", "想约个老师指导"), not declined ("不用找专家").
EXPERT_WANTED = re.compile(r"(?<!不用)(?<!不要)(?<!不)(?:请|找|约)个?.{0,8}(?:专家|老师)")
TEACH_OR_DO = re.compile(r"教我|帮我(?:做|看|修|弄|整)")
HOW_TO_USE = re.compile(r"zen ?me ?yong|咋发|怎么发|咋个发|怎样发|发不起|发不出|能问些|能问啥|能问什么|咋个问|怎么问|在哪里点|点哪|"
                        r"(?:照片|图片|相片).{0,6}发|能帮我做|都能帮|能做些|能干些|能做啥|能干啥")
PROBLEM_KINDS = frozenset({"pest", "disease", "agrochemical", "fertilizer", "symptom"})
SCIENCE = "ask_science"
# Asking for reading or watching matter: "有没有讲猕猴桃溃疡病的资料" wants 科普, not an expert.
# (not the papers of an application: "补贴要准备哪些材料")
PAPERWORK = re.compile(r"(?:填|交|提交|准备|上传|要哪些|需要哪些).{0,4}(?:资料|材料)")
# (nor the videos a seller makes: "视频也不会拍", "短视频咋剪")
MATERIAL = re.compile(r"有没有讲(?!究)|有没得讲(?!究)|发几篇|想看点|看点讲|的东西(?:我|给)?.{0,4}看|wen ?zhang|资料|教程|(?<!短)(?<!拍)(?<!剪)视频(?!.{0,3}(?:拍|剪|录|带货|卖))|科普|文章|(?<!准备)(?<!提交)(?<!申请)(?<!哪些)(?<!什么)(?<!啥子)(?<!些)材料|小常识|入门|"
                      r"手册|课程")
# A problem reported as gone is an outcome, not a need: "鱼不浮头了 谢谢" thanks the expert. Three shapes:
# "no longer" before the problem ("不再拉稀", "再没咳嗽"), with or without 了;
NO_LONGER = re.compile(r"(?:不再|没再|没有再|再不|再也不|再没有?|再也没有?)(?:太|大)?$")
# "not" before it and a change after it ("不拉稀了", "没得蚜虫了"): without the 了 it is a plain statement;
NOT_NOW = re.compile(r"(?:不|没有?|没得|莫得|莫)(?:太|大)?$")
NOW = re.compile(r"^(?:了|啦|咯|喽)")
# a cure or an end after it ("拉稀好了", "霜霉病治好了", "咳嗽好多了", "发烧退了", "蚜虫没得了"). Pests are
# cleared, not cured: "蚜虫好多了" says there are many aphids now (好多 is "many" in Sichuanese).
_ENDED = r"(?:已经|都|也|就|基本|基本上)?(?:{})(?:了|啦|咯|喽)"
CURED = re.compile("^" + _ENDED.format(r"(?:治好|医好|好|止住|退|消)(?:多|些|点)?|不见|没有|没得|莫得|没"))
CLEARED = re.compile("^" + _ENDED.format(r"不见|没有|没得|莫得|没|死光|死完"))
ENDED_AFTER = {"symptom": CURED, "disease": CURED, "pest": CLEARED}
# A thanks for advice that was followed ("照您说的撒了生石灰，鱼都缓过来了") reports the outcome: the drug
# or fertilizer it names is the treatment done, not a new question, unless the message asks one.
FOLLOWED_ADVICE = re.compile(r"(?:照|按|按照|听)(?:您|你|老师|专家|你们).{0,4}(?:说|讲|教|的)")
# The advice itself, named in a report that it was followed ("按您说的办法弄了"): no question (办法 asks elsewhere).
ADVICE = re.compile(r"(?:说|讲|教)的(?:办法|法子|方法)")
# Words that ask for something: a thanks that holds one is more than a thanks ("谢谢 帮我找个专家").
REQUEST = re.compile(r"帮|想|要(?!得)|找|请|问|求|能不能|可不可以")
THANK = "thank"
# What a message's own words say it is for, where it tells of no problem (``other_purpose``): joining ("咋个加入你们嘛
# 我养了二十几头牛": the cattle say who joins, not what is wrong), regular pushes ("定阅蔬菜病虫害的消息"), something
# unrelated to a farm (a niece's wedding gift; "far" ones even beside a farm's animal: "帮我算个命，看我属相适不适合
# 养猪"), a person ("我这个情况有点复杂，想跟工作人员通个电话"), leaving ("行 那我等消息 先下线了"), a greeting, a refusal.
SAYS = {name: re.compile(pattern) for name, pattern in {
    "joining": r"(?:加入|入驻|注册)(?:你们|平台|科技帮|进来|进去)|(?:咋个?|怎么|怎样|如何)(?:加入|注册|入驻)|报个名|"
               r"(?:帮|给).{0,10}(?:注册|报名|登记)|zhu ?ce|(?:登记|注册)成|成为专家|当专家|想加进来|一起登记",
    "subscribing": r"订阅|定阅|订个(?!专家|人|老师)|订一下|每(?:周|天|月|个月)(?:都)?(?:给我)?(?:推|发)",
    "off_topic": r"结婚|随礼|份子钱|彩礼|相亲|笑话|明星|电视剧|电影|歌|股票|基金|流量包|要落雨不|要下雨不|下不下雨",
    "far_off_topic": r"算命|属相|八字|星座|王者|上分|游戏|彩票|双色球|大乐透|中奖|话费|"
                     # the price of meat at someone else's market, chatted about (not a buyer asked: 收, 卖给)
                     r"^(?!.*(?:收|卖给)).*(?:(?:你|你们)那边.{0,6}(?:好多钱|多少钱|几块)|(?:好多钱|多少钱|几块钱?)一斤.{0,6}"
                     r"(?:电视|菜市场))",
    "a_person": r"人工客服|转人工|真人|客服|工作人员|志愿者|活人|跟人说|和人说|通个?电话|打电话过来|不是机器|"
                r"跟机器说不|摆几句的人|跟我说话的人|说了半天你|通个?话|ren ?gong|ke ?fu|zhen ?ren",
    "leaving": r"下线|先走了|先忙|拜拜|再见|回头聊|先这样|不打扰了|早点休息",
    "greeting": r"^.{0,6}(?:你好|您好|好哇|好啊|早上好|晚上好|哈喽|在不在|在吗)",
    "refusing": r"^(?:算了|不用了|不要了|不需要|不了)",
    "answering_no": r"^(?:没有|莫得|没得|没)\s",  # "莫得，还没打过药": a no, not asking after a request
    "answering_yes": r"^(?:是的|对的|对头|嗯嗯?|要得|好的|可以)",
    "sending_regards": r"问声好|问个好|问好",
    "registered": r"(?:已经|早就)?(?:注册|登记)(?:好|过|完)了",
    "not_joining": r"不(?:登记|注册|报名)了",
    # pinyin typed without choosing the characters, for what the words would say
    "pinyin_material": r"shi ?pin|jiao ?cheng|wen ?zhang",
    "pinyin_deleting": r"zhu ?xiao|shan ?chu|shan ?le",
}.items()}
REGISTER, SUBSCRIBE, OUT_OF_SCOPE, HUMAN, DELETE = "register", "subscribe", "out_of_scope", "request_human", "delete_my_data"
PINYIN_WORDS = 4  # latin words that make a message pinyin rather than Chinese with an English word in it
GREET, GOODBYE, DENY, AFFIRM = "greet", "goodbye", "deny", "affirm"
OUTCOME = re.compile(r"(?:控制住|控住|治好|好转|缓过来|活过来|没事)了|问题(?:已经|都)?解决了|"
                     r"(?:办法|法子|方法|药)(?:真|很|硬是|确实|还|真的|好)?(?:管用|有用|有效|好使|灵|起作用)|"
                     # the animal or the crop doing well again: "开始吃食了", "精神也好多了", "新叶子长得正常了"
                     r"(?:开始|又|能)(?:吃食|吃料|吃东西|吃奶|下蛋|产蛋)|下了.{0,3}蛋|精神(?:也)?(?:好|足)|(?:正常|恢复)了|"
                     r"恢复正常|(?:已经|都)好了|没(?:有)?传开|都好好的|[结长卖收上]得(?:好|不错|巴适)|压住了|照着做了|好价钱|"
                     r"站起来了|好利索了|(?<![虫螨蚜蛾蝇蛛草])好(?:多|些)了|保住了|救回来了|救活了|(?:变|转|都|又)绿了|"
                     # formal gratitude for a service rendered: "对…现场指导表示衷心感谢"
                     r"表示(?:衷心|诚挚)?的?感谢|特此(?:致谢|感谢)|"
                     # (not the A-not-A question "还拉不拉稀了")
                     r"(?:没再|不再|(?<![咳拉死掉跑裂])(?:不|没))(?:咳|拉|死|掉|跑|裂)[^\s，。,.!！]{0,2}了")
# A new matter raised in a message that also looks back ("谢谢上回回我 我还想问个事 …土鸡遭老鹰叼"): a need.
NEW_MATTER = re.compile(r"(?:还|再|另外|顺便)(?:想|要)?(?:问|请教)(?:个|一个|一下|下)?(?:事|问题)|还有个(?:事|问题)|"
                        r"(?:再|重新)(?:说|讲|发|问)(?:一遍|一次|一下)?|(?:还|再|另外|顺便)(?:想|要)?请教|直接问")
THANKS = re.compile(r"谢谢|感谢|感恩|多谢|谢了|致谢|辛苦了|辛苦你|麻烦你们了|xie ?xie|tks|thx|thanks|3q")
# A machine's fault in the words farmers write it with ("无人机喷头老堵", "微耕机打不着火"): a need like a
# sign on a crop.
FAULT = re.compile(r"堵|坏|漏|打不着|打不燃|发动不|启动不|熄火|没劲|冒黑烟|冒烟|异响|不转|卡住|卡死|断了|报错|不出水|不工作")
# A thanks typed by sound: a pinyin keyboard offers 蟹 (crab) or 薤 for xiè, so "蟹蟹" is 谢谢.
THANKS_SOUND = "xie"
DOUBLED = re.compile(r"(.)\1+")


class Named(NamedTuple):
    """A named thing and where it is written in the normalized text (start, end)."""

    start: int
    end: int
    thing: Thing


def _named(plain: str) -> list[Named]:
    """The named things of normalized text with their places (``located``: left to right, no overlaps)."""
    return [Named(start, start + len(thing.name), thing) for start, thing in located(plain)]


def _typed_by_sound(plain: str, named: Named) -> bool:
    """Whether a thing is one character of a doubled xiè ("蟹蟹", "蟹蟹你"): thanks typed by pinyin, not
    a crab. A crab named in earnest ("螃蟹", "蟹塘") is not doubled."""
    return any(m.start() <= named.start and named.end <= m.end() and lazy_pinyin(m.group(1))[0] == THANKS_SOUND
               for m in DOUBLED.finditer(plain))


def _gone(plain: str, named: Named) -> bool:
    """Whether a symptom, disease or pest is reported as gone ("不浮头了", "不再拉稀", "拉稀好了",
    "蚜虫没得了"): negated just before its name or ended just after it. Only the problem itself can be
    negated: a loss of a normal function ("不吃食", "不下蛋", "不开花") is a symptom whose name holds its
    own 不, so "猪不吃食了" is a problem, not an outcome. Drugs and fertilizers are never gone
    ("不打多菌灵了" is about the treatment, not the result)."""
    ended = ENDED_AFTER.get(named.thing.kind)
    if ended is None:
        return False
    before, after = plain[:named.start], plain[named.end:]
    not_now = bool(NOT_NOW.search(before) and NOW.match(after)) and not _a_not_a(before, named.thing.name)
    return bool(NO_LONGER.search(before) or not_now or ended.match(after))


def _a_not_a(before: str, name: str) -> bool:
    """Whether the 不 or 没 before a name is the middle of an A-not-A question ("猪还拉不拉稀了"):
    asking whether the problem is gone, without a question word, is still a question."""
    return any(before.endswith(name[0] + negation) for negation in "不没")


def evidence_in(text: str) -> list[Thing]:
    """The named things of a message that are evidence of a need. Not evidence: a 蟹 that is half of a
    thanks typed by sound ("蟹蟹"), and, in a message that asks nothing, a problem reported as gone
    ("猪不拉稀了，谢谢老师" reports an outcome). A message that asks ("鱼不浮头了吗") keeps every thing:
    a question about a problem is a need whatever its polarity, and a problem still there beside one
    that has gone ("不拉稀了 又咳嗽") is a need."""
    plain = normalize(text)
    asking = _asking(text)
    return [n.thing for n in _named(plain)
            if not _typed_by_sound(plain, n) and (asking or not _gone(plain, n))]


def _asking(text: str) -> bool:
    """Whether a message asks something: a question word, a yes-no ending, or a question mark. The 怎么 of
    "没怎么裂了" (hardly) asks nothing."""
    return bool(ASKING.search(HARDLY.sub("", normalize(text))) or QUESTION_MARK.search(text))


def _asks_about(text: str, things: list[Thing]) -> bool:
    """A problem named (a pest, a disease, a drug, a symptom), an open farm question, a question about a
    named crop or animal, a sign seen on one ("鱼鳃发白": a report is a question to an expert), or a
    machine's fault ("无人机喷头老堵")."""
    return (any(t.kind in PROBLEM_KINDS for t in things) or is_open_question(text)
            or (bool(things) and bool(EXPERT_WANTED.search(normalize(text))))  # "想请个专家看哈我的花椒树"
            or (bool(things) and _asking(text)) or _just_a_name(normalize(text), things)
            or (any(t.is_living for t in things) and bool(SIGN.search(normalize(text))))
            or (any(t.kind == "equipment" for t in things) and bool(FAULT.search(normalize(text)))))


def _just_a_name(plain: str, things: list[Thing]) -> bool:
    """"番茄" or "是番茄": the answer to "是啥子庄稼还是牲畜？", or a need put in one word."""
    named = sum(len(t.name) for t in things if t.is_subject)
    return named > 0 and 2 * named >= sum(map(len, cjk_runs(plain)))


def _asks_what_to_do(text: str) -> bool:
    """"……有没有办法", "现在咋办" in a message long enough to say what about."""
    plain = normalize(text)
    return bool(WHAT_TO_DO.search(plain)) and sum(map(len, cjk_runs(plain))) >= MIN_NEED_CHARS


def asks_after_a_request(intent: str, text: str) -> bool:
    """True when a message the classifier could not place, or read as a need with nothing of a need in it
    (no crop, animal, problem or farm question) or pointing back at a question already sent, asks how an
    earlier request is going ("匹配到专家没有啊", "问题提交成功了吗 咋没看到提示", "我那个柑橘黄叶的问题 现在啥情况"):
    the farmer gets the status, not the fallback or a second read-back of the same need."""
    plain = normalize(text)
    if HOW_TO_USE.search(plain):
        return False  # "是能直接找到农业专家吗" asks what the assistant does, not after a request
    if intent == NEED:
        if NEW_MATTER.search(plain) and evidence_in(text):
            return False  # "我那个鱼塘的问题还没人回，我再说一遍：草鱼鳃丝发白" is the need said again
        if REFERS_BACK.search(plain) and not WHAT_TO_DO.search(plain):
            return bool(SUBMITTED.search(plain) or ASKS_AFTER_A_REQUEST.search(plain))
        return bool(SUBMITTED.search(plain)) and _nothing_of_a_need(text)
    return intent == UNSURE and (bool(ASKS_AFTER_A_REQUEST.search(plain)) or _looks_back_asking(plain))


def _looks_back_asking(plain: str) -> bool:
    """Pointing back at a question already sent and asking after it ("上次问的那个事 有回信没")."""
    return bool(REFERS_BACK.search(plain) and SUBMITTED.search(plain) and not WHAT_TO_DO.search(plain))


def asks_how_to_use(intent: str, text: str) -> bool:
    """True when a message read as a need, with nothing of a need in it, asks how to use the assistant
    ("图片咋发", "这里能问些啥"), or asks what the assistant itself can do for someone, naming their farm or not
    ("这个科技帮能帮我们养猪的做啥子", "这个平台种果树的人能用吗"): the farmer gets the help, not "是啥子庄稼还是牲畜？"."""
    plain = normalize(text)
    if intent == REGISTER:
        return bool(re.search(r"怎么用|咋用|咋个用", plain)) and _about_us(plain)  # "这个怎么用 我要先注册还是直接问"
    if intent not in (NEED, UNSURE):
        return False
    costs = bool(COST.search(plain)) and bool(re.search(r"专家|你们|平台|科技帮", plain))
    return _about_us(plain) or ((bool(HOW_TO_USE.search(plain)) or costs) and _nothing_of_a_need(text))


def _about_us(plain: str) -> bool:
    """Whether a message asks what the assistant itself does or costs, and tells of no sign."""
    asks = WHAT_IT_DOES.search(plain) or HOW_TO_USE.search(plain)
    return bool(ABOUT_US.search(plain) and asks) and not SIGN.search(plain)


def _nothing_of_a_need(text: str) -> bool:
    """No named thing, no open farm question, no asking what to do about something."""
    return not evidence_in(text) and not is_open_question(text) and not _asks_what_to_do(text)


def other_purpose(intent: str, text: str) -> str | None:
    """The intent a need, a status question or a message not placed at all has instead, when its own words
    say so and it tells of no problem: joining (register), regular pushes (subscribe), something unrelated
    to farming (out_of_scope). None when none applies."""
    plain = normalize(text)
    if intent == REGISTER and SAYS["not_joining"].search(plain):
        return DENY  # "算了，不登记了"
    if intent == NEED and SAYS["far_off_topic"].search(plain) and not _a_problem(text, asking=False):
        return OUT_OF_SCOPE  # "帮我看下这期双色球买啥子号嘛" asks what to look at, about no farm
    if intent == HELP and SAYS["sending_regards"].search(plain):
        return GREET  # "奶奶说跟你们问声好，她七十多了第一次用这个"
    if intent == STATUS and SAYS["answering_no"].search(plain) and not SUBMITTED.search(plain):
        return DENY
    if intent not in (NEED, STATUS, UNSURE, GREET, THANK, GOODBYE, OUT_OF_SCOPE) or _a_problem(text):
        return None
    if _mostly_pinyin(plain):
        said = {SCIENCE: "pinyin_material", DELETE: "pinyin_deleting", HUMAN: "a_person", REGISTER: "joining"}
        return next((purpose for purpose, words in said.items() if SAYS[words].search(plain)), None)
    asked = intent in (NEED, STATUS, UNSURE)  # readings whose own words may say another purpose
    nothing = _nothing_of_a_need(text)
    if SAYS["joining"].search(plain):
        return REGISTER
    if asked and SAYS["subscribing"].search(plain) and not SUBMITTED.search(plain):
        return SUBSCRIBE
    if intent == NEED and (SAYS["far_off_topic"].search(plain) or (SAYS["off_topic"].search(plain) and nothing)):
        return OUT_OF_SCOPE
    if ((asked or intent in (GREET, THANK)) and SAYS["a_person"].search(plain) and (nothing or intent != NEED)
            and not SUBMITTED.search(plain)):
        return HUMAN
    if intent in (STATUS, GREET) and SAYS["leaving"].search(plain) and not _asking(text):
        return GOODBYE
    if intent == NEED and SAYS["greeting"].search(plain) and nothing and not _asking(text):
        return GREET
    if intent == UNSURE:
        unsure = {GREET: "greeting", DENY: "refusing", AFFIRM: "answering_yes"}
        return next((purpose for purpose, words in unsure.items() if SAYS[words].search(plain)), None)
    return None


def _mostly_pinyin(plain: str) -> bool:
    """Whether a message is written mostly in pinyin ("wo yao zhu xiao zhang hao")."""
    return len(re.findall(r"[a-z]+", plain)) >= PINYIN_WORDS


def _a_problem(text: str, asking: bool = True) -> bool:
    """Whether a message tells of a problem: a pest, disease, drug, fertilizer or symptom named, a sign, or (with
    ``asking``) an open farm question."""
    return (any(t.kind in PROBLEM_KINDS for t in evidence_in(text)) or bool(SIGN.search(normalize(text)))
            or (asking and is_open_question(text)))


def unfounded(intent: str, text: str) -> bool:
    """True when a reading that would write at once (a subscription) has none of its own words: the
    message is taken as not understood (the farmer is asked again) rather than acted on."""
    return (intent in FOUNDED_ONLY and not text.lstrip().startswith("/")
            and not OWN_CUES[intent].search(normalize(text)))


# Material named as already seen ("推送的文章我都看了", "视频号里教的…我照着修了"), an expert asked for beside it
# ("看了好多视频都说得不一样，帮我找个专家"), or the person's own 资料: the message asks no reading.
SEEN_WITHIN = 10  # characters either side of the material named
EXPERT_ASKED = re.compile(r"找.{0,8}(?:专家|老师)|(?:专家|老师).{0,6}(?:指导|带|来|看)|请教|直接问|不是要|不要(?:文章|资料|视频)")
# (an expert asked for anywhere in the message is EXPERT_ASKED, read first)
SEEN_OR_OWN = re.compile(r"(?:看了|看过|照着|推的|推送的|学到|学了|教的)|(?:我|我的|个人)(?:的)?资料")


def wants_material(intent: str, text: str) -> bool:
    """True when a message read as a need, or not placed at all, asks for learning material by name
    ("给我推点茶叶加工的资料"): that is what the contract calls ``ask_science``, and the farmer gets the 科普
    they asked for. Papers to fill in or hand over ("需要填些什么资料") are no reading."""
    plain = normalize(text)
    return (intent in (NEED, UNSURE) and bool(MATERIAL.search(plain)) and not PAPERWORK.search(plain)
            and not _material_not_asked(plain))


def _material_not_asked(plain: str) -> bool:
    """Whether every mention of material is of something already seen, or beside an expert asked for."""
    if EXPERT_ASKED.search(plain):
        return True
    return all(SEEN_OR_OWN.search(plain[max(0, m.start() - SEEN_WITHIN):m.end() + SEEN_WITHIN])
               for m in MATERIAL.finditer(plain))


def reports_advice_followed(intent: str, text: str) -> bool:
    """True when a message read as anything but a thanks (a need, chit-chat, even a deletion) thanks for
    advice that was followed or says the problem is over, asking nothing and naming no sign ("太感谢了！照专家
    说的撒了生石灰，塘里的鱼都缓过来了", "小麦的病已经控住了"): the outcome of a need, not a new one. A reading
    whose own words are there keeps it ("谢谢 我要注册")."""
    plain = normalize(text)
    # (looking back, "上回说的那个法子管用", is no status question: only asking after a request is)
    cue = SUBMITTED if intent == STATUS else OWN_CUES.get(intent)
    return (intent != THANK and not (cue is not None and cue.search(plain)) and bool(THANKS.search(plain))
            and bool(FOLLOWED_ADVICE.search(plain) or OUTCOME.search(plain) or _problem_gone(plain))
            and not _asking(OUTCOME.sub("", ADVICE.sub("", text))) and not SIGN.search(plain))


def _problem_gone(plain: str) -> bool:
    """A problem the message reports as gone ("鸡现在不拉稀了"), and none still there."""
    problems = [n for n in _named(plain) if n.thing.kind in ENDED_AFTER]
    return bool(problems) and all(_gone(plain, n) for n in problems)


def thanks_only(intent: str, text: str) -> bool:
    """True when a message the classifier could not place thanks and asks for nothing ("谢谢你们帮我联系上那位
    老师，问题已经解决了"): the farmer is thanked back, not asked to say it again. The same for one read as a need
    with nothing of a need and no request in it ("要得要得 多谢了哈 巴适得很")."""
    plain = normalize(text)
    if intent == NEED and REQUEST.search(plain):
        return False
    return (intent in (UNSURE, NEED) and bool(THANKS.search(plain)) and not _asking(text)
            and _nothing_of_a_need(text))


def reading(intent: str, text: str) -> bool:
    """True when a message first read as ``intent`` should be read as a need instead."""
    if intent == NEED or text.lstrip().startswith("/"):
        return False
    plain = normalize(text)
    if intent == OUT_OF_SCOPE and (SAYS["far_off_topic"].search(plain) or (SAYS["off_topic"].search(plain) and not _a_problem(text))):
        return False  # "我手机话费咋个扣了这么多" names a phone, not a farm's trouble
    if ((intent == THANK and not _asking(text) and not SIGN.search(plain)
         and (FOLLOWED_ADVICE.search(plain) or OUTCOME.search(plain)))
            or reports_advice_followed(intent, text)):
        return False
    if intent == UNSURE and _looks_back_asking(plain):
        return False  # "我前两天问嘞那个母猪的事，有回信没得": a status question (asks_after_a_request)
    things = evidence_in(text)
    if intent == UNSURE and (any(t.is_living for t in things) or _asks_what_to_do(text)):
        return True
    if not _asks_about(text, things):
        return False
    if intent in YIELDING:
        return True
    if intent in SHORT_ANSWERS:
        return bool(things) and (sum(map(len, cjk_runs(plain))) >= MIN_NEED_CHARS or not YES_OR_NO.match(plain))
    cue = OWN_CUES.get(intent)
    if intent == HELP and _about_us(plain):
        return False
    if intent == REGISTER and SAYS["registered"].search(plain) and things:
        return True  # "我已经注册好了，现在想问：我的鸭子眼睛肿" asks about the ducks
    if intent == HUMAN and things and TEACH_OR_DO.search(plain):
        return True  # "想找个人教我做腊肉不加亚硝酸盐": someone who knows, for a need
    # (an expert asked for beside the material or the pushes already read: "订阅的花椒知识都看了…想约个老师指导")
    again = NEW_MATTER.search(plain) or (intent in (SCIENCE, SUBSCRIBE) and EXPERT_WANTED.search(plain))
    return cue is not None and (not cue.search(plain) or (bool(things) and bool(again)))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class NeedEvidenceClassifier(GraphComponent, IntentClassifier):
    """Re-reads messages with domain evidence as needs (after DIET and the FallbackClassifier)."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [IntentClassifier]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {}

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> NeedEvidenceClassifier:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            intent = (message.get(INTENT) or {}).get("name")
            text = message.get(TEXT) or ""
            if intent and reading(intent, text):
                intent = NEED
                _read_as(message, NEED)
            elif intent and asks_after_a_request(intent, text):
                intent = STATUS
                _read_as(message, STATUS)
            elif intent and asks_how_to_use(intent, text):
                intent = HELP
                _read_as(message, HELP)
            elif intent and (purpose := other_purpose(intent, text)):
                intent = purpose
                _read_as(message, purpose)
            elif intent and unfounded(intent, text):
                _read_as(message, UNSURE)
            elif intent and (thanks_only(intent, text) or reports_advice_followed(intent, text)):
                intent = THANK
                _read_as(message, THANK)
            if intent and wants_material(intent, text):
                _read_as(message, SCIENCE)
        return messages


def _read_as(message: Message, name: str) -> None:
    """Put ``name`` first, with the confidence of a reading from evidence."""
    chosen = {"name": name, "confidence": EVIDENCE_CONFIDENCE}
    ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != name]
    message.set(INTENT, chosen, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [chosen, *ranking], add_to_output=True)
