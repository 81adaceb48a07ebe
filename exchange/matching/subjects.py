"""What a message is about: crops, animals, products, pests, diseases, agrochemicals, fertilizers and
symptoms, found by name in ``exchange/knowledge/subjects.tsv`` (standard, everyday and regional names).

Three readers share it: the NLU (a message that names any of these is a need, whatever politeness
surrounds it), the read-back (its 对象 is the crop or animal the farmer named, never a jieba
fragment such as 家母), and the matcher (a named crop points to its domain).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from exchange.matching.knowledge import subject_kinds, subject_rows, taxonomy
from exchange.matching.misspelt import with_misspelt_name
from exchange.matching.normalize import normalize

# What a need can be about, most telling first: a sick 鸭 in a 稻田 is about the duck; a 微耕机 is the
# subject only when no crop or animal is named.
SUBJECT_KINDS = ("animal", "crop", "product", "equipment")
PROBLEM_KINDS = ("pest", "disease", "agrochemical", "fertilizer", "symptom")
# A site (大棚, 菜地, 秧田) is where the farming happens: "大棚里白粉虱" asks about whitefly whatever grows
# under the film, so a site is the read-back's 对象 only when the question is about the site itself
# (building or mending a 大棚), i.e. names no pest, disease, drug, fertilizer or symptom.
KINDS = (*SUBJECT_KINDS, "site", *PROBLEM_KINDS)
# A farm question that names nothing ("这是什么病？", "咋回事", a photo's "帮我看看"): it is a need, and
# the read-back asks which crop or animal it is instead of guessing.
OPEN_QUESTION = re.compile(
    r"什么病|啥病|啥子病|哪样病|什么虫|啥虫|啥子虫|是什么原因|啥原因|咋回事|怎么回事|咋个回事|怎么了|咋了|"
    r"帮我看看|帮我看下|帮忙看|看一下这|看下这|这是什么|这是啥|这个是啥|怎么治|咋治|咋个治|怎么防治|用什么药|打什么药|"
    r"用啥药|打啥药|能治吗|有救吗|还有救|什么问题|啥问题|咋个了|看图|看照片|看哈这|看看这|你看看|帮看下|帮看看|"
    r"麻烦看看|麻烦看下|拍了.{0,4}(?:照片|相片)|诊断一?下|帮忙诊断|帮我诊断|你看(?:我|下我|一下我)")

# Words that hold a crop's or an animal's name but name none, passed over whole: the similes farmers
# describe signs with (叶子卷成鸡爪, 猪肝色, 鱼鳞状, 龟裂), and idioms and slang (鸡毛蒜皮, 吹牛, 狗日的,
# 沧桑). Without them "叶子卷成鸡爪" is read back as a chicken question and "狗日的虫" as a need about dogs.
NOT_NAMES = frozenset({
    "鸡爪状", "鸡爪形", "成鸡爪", "像鸡爪", "猪肝色", "猪肝红", "鱼鳞状", "鱼鳞纹", "龟裂", "蜂窝状", "蜂窝煤",
    "鸡皮疙瘩", "鸡毛蒜皮", "鸡飞蛋打", "鸡犬不宁", "鸡同鸭讲", "杀鸡儆猴", "打鸡血", "吹牛", "牛逼", "牛批",
    "牛角尖", "牛脾气", "对牛弹琴", "当牛做马", "亡羊补牢", "羊癫疯", "狗日", "狗屁", "狗急跳墙", "猪脑子",
    "猪队友", "倔驴", "驴脾气", "卸磨杀驴", "井底之蛙", "浑水摸鱼", "鱼龙混杂", "虾兵蟹将", "一窝蜂", "放鸽子",
    "沧桑", "桑拿", "装蒜", "桃花运", "麦当劳", "麦克风", "芝麻官", "王者农药",
    # where: the 边 of 这边 starts no 边茶 (名山这边茶树 is about the tea bushes)
    "这边", "那边", "旁边", "周边", "外边", "里边",
    # Sichuanese for "brothers, folks" (哥子些好哇), sounding like 鸽子
    "哥子", "哥子些",
    # whose 家: the 家 of 我家 starts no 家鸡 or 家兔 (俺家鸡苗 is about the chicks, 我家兔子 about rabbits)
    "我家", "俺家", "你家", "他家", "她家", "咱家", "自家", "我们家", "俺们家", "他们家", "咱们家", "人家",
})


@dataclass(frozen=True)
class Thing:
    """One named thing: the word written, its standard name, what kind of thing it is, its domains."""

    name: str
    canonical: str
    kind: str
    domains: tuple[str, ...]

    @property
    def is_subject(self) -> bool:
        """Crops, animals, products and equipment are what a need is about; pests and drugs are what it asks."""
        return self.kind in SUBJECT_KINDS

    @property
    def is_living(self) -> bool:
        """A crop or an animal: the strongest sign of a need's domain."""
        return self.kind in ("animal", "crop")

    @property
    def label(self) -> str:
        """The farmer's word, with the standard name beside it when they differ: 洋芋（马铃薯）."""
        return self.name if self.canonical == self.name else f"{self.name}（{self.canonical}）"


@lru_cache(maxsize=1)
def gazetteer() -> dict[str, Thing]:
    """Name → Thing, from the reviewed file; rows with an unknown kind or domain are refused loudly."""
    codes = set(taxonomy())
    things: dict[str, Thing] = {}
    for number, row in enumerate(subject_rows(), start=2):
        name = normalize(row["name"] or "")
        domains = tuple(c.strip() for c in (row["domains"] or "").split("|") if c.strip())
        if row["kind"] not in KINDS or not domains or set(domains) - codes:
            raise ValueError(f"subjects.tsv:{number}: bad kind or domain in {row}")
        if name:
            things.setdefault(name, Thing(name, (row["canonical"] or name).strip(), row["kind"], domains))
    return things


@lru_cache(maxsize=1)
def _lexicon() -> dict[str, Thing | None]:
    """The gazetteer with the words that only look like names (``NOT_NAMES``) standing for nothing."""
    return {**gazetteer(), **dict.fromkeys(map(normalize, NOT_NAMES))}


@lru_cache(maxsize=1)
def _longest_name() -> int:
    return max(map(len, _lexicon()), default=1)


@lru_cache(maxsize=256)
def located(text: str) -> tuple[tuple[int, Thing], ...]:
    """(start, thing) of the named things of a message's normalized text, with a crop or animal it names
    only misspelt (``misspelt``: 油才 for 油菜) where it names none as written. Kept for the last few texts:
    the NLU, the domain model, the matcher and the read-back all read the same message."""
    return tuple(with_misspelt_name(text, _named_in(text)))


def _named_in(text: str) -> list[tuple[int, Thing]]:
    """(start, thing) of the names written in normalized text, longest name first at each place, no
    overlaps; a word of ``NOT_NAMES`` is passed over whole, so the 鸡 of 鸡爪状 is never found. A name
    that a longer crop or animal overlaps gives way to it: 能种羊肚菌不 grows 羊肚菌, not 种羊 (breeding
    sheep); a sign does not take a crop's place (油菜花而不实)."""
    known = _lexicon()
    found: list[tuple[int, Thing]] = []
    start = 0
    while start < len(text):
        size = _longest_at(text, start)
        if size and not any(_living_at(text, later, size) for later in range(start + 1, start + size)):
            thing = known[text[start:start + size]]
            if thing is not None:
                found.append((start, thing))
            start += size
        else:
            start += 1
    return found


def _living_at(text: str, start: int, longer_than: int) -> bool:
    """Whether a crop or animal named by more than ``longer_than`` characters starts at ``start``."""
    size = _longest_at(text, start)
    thing = _lexicon()[text[start:start + size]] if size > longer_than else None
    return thing is not None and thing.is_living


def _longest_at(text: str, start: int) -> int:
    """The length of the longest name (or word of ``NOT_NAMES``) written at ``start``; 0 when none is."""
    known = _lexicon()
    for size in range(min(_longest_name(), len(text) - start), 0, -1):
        if text[start:start + size] in known:
            return size
    return 0


def things_in(text: str) -> list[Thing]:
    """The named things of a text, left to right, longest name first at each place, no overlaps."""
    return [thing for _, thing in located(normalize(text))]


HOSTED_KINDS = ("disease", "pest", "agrochemical", "site", "symptom")
RANKS = {"animal": 0, "crop": 0, "product": 1, "equipment": 2, "site": 2}


def _host(thing: Thing) -> Thing | None:
    """The crop or animal named inside a disease, pest, drug, site or symptom name (辣椒疫病 → 辣椒, 奶牛乳房炎
    → 奶牛, 茶园 → 茶, 鱼浮头 → 鱼). A single character counts only inside a name of its own domain: an animal in a
    disease or vaccine (鸭瘟 → 鸭, 副猪嗜血杆菌病 → 猪), or what a site keeps (鸡场 → 鸡); 蜗牛 is no
    cow, and 稻瘟病 names a disease, not the farmer's field."""
    if thing.kind not in HOSTED_KINDS:
        return None
    names = gazetteer()
    for size in range(len(thing.name) - 1, 0, -1):
        for start in range(len(thing.name) - size + 1):
            host = names.get(thing.name[start:start + size])
            if host is not None and host.is_living and (size > 1 or _kept_in(host, thing)):
                return host
    return None


def _kept_in(host: Thing, thing: Thing) -> bool:
    """Whether a one-character crop or animal is what a longer name of the same domain is about."""
    own_domain = bool(set(host.domains) & set(thing.domains))
    return own_domain and (thing.kind == "site" or (host.kind == "animal" and thing.kind != "pest"))


def _qualifies(first: Thing, head: Thing) -> bool:
    """Whether a name written just before another qualifies it rather than standing beside it: a variety
    of the same crop (红阳猕猴桃), or a longer breed name before an age or sex class (伊拉兔仔兔). Two
    names of equal standing are a pair (玉米大豆, 鲢鱼鳙鱼): the first stays the subject."""
    return first.canonical == head.canonical or len(first.name) > len(head.name)


# The husbandry domains: a product only they know is a feed (豆粕, 麸皮, 青贮), while eggs, milk and wool
# are also the processors'.
HUSBANDRY_DOMAINS = frozenset({"pig", "herbivore", "poultry", "aquaculture", "beekeeping"})


def _is_feed(thing: Thing) -> bool:
    """A product that only animal husbandry knows: what animals eat, not what they yield."""
    return thing.kind == "product" and set(thing.domains) <= HUSBANDRY_DOMAINS


FEEDING = re.compile("喂|饲料|饲喂")
WOODLAND = "林"
SOWN = re.compile("种|栽|播")  # 种黑麦草喂羊: the grass grown for the sheep stays the subject
# A machine the sender wants to buy or install ("种了两百亩水稻，打算买台烘干机") is what the question is about, ahead
# of the crop or animal that only sets the scene.
BOUGHT = re.compile("(?:买|购买|购置|添|装|安装|选)(?:一|两|几)?(?:台|个|套|部|架|辆|种)?")
WHERE = ("上", "里", "中")  # "装个手机上能看溶氧的东西": the phone is where it is read, not what is installed
# Asking whether something can still be fed ("长霉的玉米还能喂猪不"): the question is about the feed, and the
# animal named after it only says who would eat it.
FEED_QUESTION = re.compile("(?:还能|能不能|能|可以|可不可以|敢)(?:拿来|拿去)?喂(?:给)?|喂得")
# A sign on a crop, just after its name and before anything else is named ("甜樱桃一落雨就裂口", "桑树叶子发黄";
# not "红苕喂猪 猪死了"): a crop in trouble is no side dish, whatever animal the text also feeds.
CROP_TROUBLE = re.compile("[叶黄枯烂裂斑病虫粉霉死蔫落]")
TROUBLE_REACH = 8
EATER = 1.5  # added to the rank of an animal named as who would eat the feed asked about


def _side_crops(located: Sequence[tuple[int, Thing]], text: str) -> set[int]:
    """Starts of the crops that only set the scene for the thing a need is about, and yield to it:
    - what an animal eats or is raised with: a crop listed beside a feed (玉米豆粕麸皮, 玉米 麸皮) is an
      ingredient of the ration, a crop written right before an animal (稻虾共作, 稻鸭, 桑蚕) names the field
      or food it is raised on, Chinese putting the head last, and any crop of a text that talks of feeding
      an animal it names (苞谷太贵了 拿酒糟喂猪: the pig), unless it talks of sowing (种黑麦草喂羊), asks
      whether the crop can be fed (发霉的玉米还能喂猪不: the maize) or tells of a sign on the crop (甜樱桃一落雨
      就裂口 … 晚上还要去喂牛: the cherries);
    - a wood the crop grows in (杉木林下种黄精, 竹林出笋: 黄精, 笋)."""
    ends = {start + len(thing.name): thing for start, thing in located}
    starts = dict(located)
    feeding = (bool(FEEDING.search(text)) and not SOWN.search(text) and not FEED_QUESTION.search(text)
               and any(thing.kind == "animal" for _, thing in located))
    side = set()
    for start, thing in located:
        if thing.kind != "crop":
            continue
        end = start + len(thing.name)
        before = [ends.get(start - gap) for gap in (0, 1)]
        after = [starts.get(end + gap) for gap in (0, 1)]
        reach = min([end + TROUBLE_REACH, *(s for s, t in starts.items() if s >= end and t.is_subject)])
        in_trouble = bool(CROP_TROUBLE.search(text, end, reach))
        if ((feeding and not in_trouble) or any(t is not None and _is_feed(t) for t in before + after)
                or (after[0] is not None and after[0].kind == "animal") or text.startswith(WOODLAND, end)):
            side.add(start)
    return side


# What a farmer writes between a breed and the animal it was crossed into: 西门塔尔杂交的架子牛 is a 架子牛.
CROSSED = frozenset({"杂交的", "杂交", "杂的", "杂"})


def _written_together(between: str, first: Thing, head: Thing) -> bool:
    """Whether two names are written as one phrase: side by side, or a breed and an animal with only the
    word for a cross between them (an 杂交的 never joins two crops or a crop and an animal)."""
    return not between or (between in CROSSED and first.kind == head.kind == "animal")


def _generic(subject: Thing, candidates: list[tuple[int, float, Thing]]) -> float:
    """A name yields to a narrower one of the same thing in the same need: 鱼 … 加州鲈 is about the bass, 菇 …
    羊肚菌 about the morels, 蜜蜂 中蜂 about the 中蜂 (a one-character name to any longer one of its kind and
    domain, the rest to a kind of them the gazetteer knows)."""
    for _, _, other in candidates:
        if len(subject.name) == 1 and len(other.name) > 1:
            if other.kind == subject.kind and set(other.domains) & set(subject.domains):
                return 0.25
        elif other.canonical != subject.canonical and (subject.canonical in lineage(other.canonical)[1:]
                                                       or _covers(subject.canonical, other.canonical)):
            return 0.25
    return 0.0


# What a rambling message says after these is what the farmer came to ask: "今天累惨了 … 帮我妈挖洋芋。说正事哈，
# 我家那几头牛不咋吃草了" is about the cattle.
TO_THE_POINT = re.compile("说正事|言归正传|正事是|问个事|有个事|想问一下|想问下|想问个|想请教|请问|咨询一下")


def _before_the_point(text: str, candidates: list[tuple[int, float, Thing]]) -> int | None:
    """Where the question proper starts, when a crop or animal is named after it; None otherwise."""
    points = [m.end() for m in TO_THE_POINT.finditer(text)]
    if not points:
        return None
    point = points[-1]
    after = any(end - len(subject.name) >= point and subject.is_living for end, _, subject in candidates)
    return point if after else None


def subjects_in(text: str) -> list[Thing]:
    """What a text is about, most telling first: crops and animals (also those inside a disease's or a
    site's name), then products, then equipment and sites; of two names written together where the first
    qualifies the second, the second is the head (红阳猕猴桃). A workshop's message that names none of
    them is about what it makes (``made_here``)."""
    normalized = normalize(text)
    return _subjects(located(normalized), normalized) or made_here(normalized)


# What a factory or a workshop makes, in the words its owner introduces it with: "我们厂做那种塑料桶的",
# "公司做电路板的", "做阀门的小厂", "……做水箱的". Only where no crop, animal, product or machine is named.
MADE_HERE = re.compile(
    r"(?:厂|公司|作坊|车间|企业)[^\s]{0,3}?\s?(?:做|生产|制造|造|注塑|加工)(?:那种|这种|的是|的)?([a-z]*[\u4e00-\u9fff]{2,5}?)(?:的|\s|$)"
    r"|(?:做|生产|制造)([\u4e00-\u9fff]{2,4})的[\u4e00-\u9fff]{0,2}?(?:小厂|厂|公司|作坊|企业)"
    r"|(?:^|\s|是)做([\u4e00-\u9fff]{2,4})的(?:\s|$)")
# ... and what is no product: "我们是做养殖的" says a trade.
TRADES = frozenset({"养殖", "种植", "生意", "农业", "电商", "直播", "销售", "加工", "批发", "零售", "餐饮", "事情", "工作",
                    "什么", "啥子", "哪样", "这个", "那个", "这行", "那行", "买卖", "外贸", "物流", "运输", "服务"})


def made_here(normalized: str) -> list[Thing]:
    """The product a workshop's message says it makes, as the read-back's subject (a list of one, or none)."""
    for match in MADE_HERE.finditer(normalized):
        product = next(group for group in match.groups() if group)
        if product not in TRADES:
            return [Thing(product, product, "product", ())]
    return []


def read(text: str) -> tuple[list[Thing], list[Thing]]:
    """``subjects_in`` and ``things_in`` of a text at the cost of one scan (indexing 250 000 profiles)."""
    normalized = normalize(text)
    found = _named_in(normalized)  # profiles are written with care: no misspelling hunted in 250 000 of them
    return _subjects(found, normalized), [thing for _, thing in found]


def _subjects(located: Sequence[tuple[int, Thing]], text: str) -> list[Thing]:
    """What ``subjects_in`` returns, from the located names of a (normalized) text."""
    about_a_problem = any(thing.kind in PROBLEM_KINDS for _, thing in located)
    side_crops = _side_crops(located, text)
    eaters = {m.end() for m in FEED_QUESTION.finditer(text)}  # 还能喂猪不: the pig only says who would eat it,
    # after the feed whatever it is (a crop, or a product: 玉米秸秆 泡了水 还喂得牛不)
    wanted = {m.end() for m in BOUGHT.finditer(text)}
    candidates: list[tuple[int, float, Thing]] = []  # (end, rank, subject)
    for start, thing in located:
        subject = thing if thing.is_subject else _host(thing)
        if subject is None and thing.kind == "site" and not about_a_problem:
            subject = thing
        if subject is None:
            continue
        previous = candidates[-1] if candidates else None
        if (previous and _written_together(text[previous[0]:start], previous[2], subject)
                and previous[2].is_living and subject.is_living and _qualifies(previous[2], subject)):
            candidates.pop()
        # what a site keeps (稻田 → 稻) yields to a crop or animal named outright (稻田养鱼 is about the fish)
        # so does a crop named as feed or as what an animal is raised on (玉米豆粕 for the pigs, 稻虾)
        yields = (thing.kind == "site" and subject is not thing) or start in side_crops
        bought = subject.kind == "equipment" and start in wanted and not text.startswith(WHERE, start + len(thing.name))
        rank = RANKS[subject.kind] + (0.5 if yields else 0) + (EATER if start in eaters else 0) - (3 if bought else 0)
        candidates.append((start + len(thing.name), rank, subject))
    named = Counter(subject.canonical for _, _, subject in candidates)
    point = _before_the_point(text, candidates)
    ranked = sorted(candidates, key=lambda c: (c[1] + _generic(c[2], candidates)
                                               + (0.5 if point is not None and c[0] <= point else 0),
                                               -named[c[2].canonical]))
    seen: dict[str, Thing] = {}
    for _, _, subject in ranked:
        seen.setdefault(subject.canonical, subject)
    return list(seen.values())


# Names of a whole domain's crops or animals: a 家禽 vet treats the chicken, a 蔬菜 agronomist the pepper, a
# 中药材 team the 黄精, and a 蜜蜂 question is one about the 中蜂 and 意蜂 (whose head 蜂 only stands for 蜜蜂).
# A homophone of one says nothing of which (打什么药才 is no 药材).
GROUP_NAMES = frozenset({"家禽", "鱼", "蔬菜", "果树", "水果", "食用菌", "蜜蜂", "中药材"})
# How close a profile's crop or animal is to the need's (``kinship``): the same one, one a kind of the
# other (架子猪 and 猪, 鲫鱼 and a 鱼 vet, 鸡 and a 家禽 vet), two kinds of one (肉牛 and 犊牛), unrelated.
SAME, KIN, SIBLING, UNRELATED = 3, 2, 1, 0


@lru_cache(maxsize=4096)
def _broader(canonical: str) -> str | None:
    """The crop or animal a standard name is a kind of, read from its head (Chinese names end in it):
    育肥猪 → 猪, 鲫鱼 → 鱼, 山羊 → 羊. The head must be a standard name of the same kind and domain, so
    矮牵牛 (a flower) is no 牛 and 大麦 (麦 standing for 小麦) no wheat. Where the name does not say it
    (脐橙 is a 橙子, 榨菜 a 芥菜, 空心菜 a 叶菜), ``subject_kinds.tsv`` does."""
    if canonical in _kinds():
        return _kinds()[canonical] or None
    own = gazetteer().get(canonical)
    for start in range(1, len(canonical)):
        head = gazetteer().get(canonical[start:])
        if (head is not None and head.is_living and head.canonical == head.name and head.canonical != canonical
                and (own is None or (own.kind == head.kind and set(own.domains) & set(head.domains)))):
            return head.canonical
    return None


@lru_cache(maxsize=1)
def _kinds() -> dict[str, str]:
    """``subject_kinds.tsv``, both names standard names of living things (a row naming anything else is
    refused loudly: a typo must not silently cut a crop off from its kin)."""
    names = gazetteer()
    for narrower, broader in subject_kinds().items():
        for name in (narrower, broader) if broader else (narrower,):
            thing = names.get(name)
            if thing is None or thing.canonical != name or not thing.is_living:
                raise ValueError(f"subject_kinds.tsv: {name} is no standard name of a crop or animal")
    return subject_kinds()


@lru_cache(maxsize=4096)
def lineage(canonical: str) -> tuple[str, ...]:
    """A standard name and what it is a kind of, narrowest first: 乐至黑山羊 → 山羊 → 羊."""
    chain = [canonical]
    while (head := _broader(chain[-1])) is not None and head not in chain:
        chain.append(head)
    return tuple(chain)


def _covers(group: str, member: str) -> bool:
    """Whether a group name (蔬菜, 蜜蜂) takes in a crop or animal of its domain, either way round: a 蔬菜
    agronomist answers for the pepper, and a pepper specialist answers a 蔬菜 question."""
    thing, whole = gazetteer().get(member), gazetteer().get(group)
    return (group in GROUP_NAMES and thing is not None and whole is not None
            and bool(set(thing.domains) & set(whole.domains)))


@lru_cache(maxsize=65536)
def kinship(need: str, named: str) -> int:
    """How close a crop or animal a profile names is to the need's (both standard names): SAME, KIN,
    SIBLING or UNRELATED."""
    if need == named:
        return SAME
    mine, theirs = lineage(need), lineage(named)
    if named in mine or need in theirs or _covers(named, need) or _covers(need, named):
        return KIN
    return SIBLING if set(mine) & set(theirs) else UNRELATED


def is_open_question(text: str) -> bool:
    """Whether a message asks what is wrong (with or without naming what it is about)."""
    return bool(OPEN_QUESTION.search(normalize(text)))
