"""The exchange's behaviour through both transports (in-process and HTTP on loopback)."""

from __future__ import annotations

import pytest

from exchange.errors import InputRejected, NotFound

FARMER = {"name": "王秀英", "phone": "13881234567", "role": "农户", "township": "岳池县坪滩镇",
          "consent": {"purpose": "把联系方式提供给匹配的专家", "scope": "姓名、电话", "share_contact": True}}


def test_a_farmers_need_is_matched_to_pig_experts_with_readable_reasons(exchange):
    result = exchange.match_preview("我家猪这几天不吃食还发烧", "四川省广安市岳池县", top=3)
    assert result["domains"][0] == "pig"
    assert len(result["experts"]) == 3
    assert all("pig" in e["domains"] for e in result["experts"])
    assert all(e["reason"] and e["name"] for e in result["experts"])
    assert result["articles"], "科普 articles come with the experts"


@pytest.mark.parametrize(("need", "named"), [
    ("柑子裂果咋个办", ("柑橘", "裂果")),
    ("蓟马太难治了 打了好几遍都打不死", ("蓟马",)),
    ("我家猪发烧不吃食", ("猪", "发烧", "不吃")),
])
def test_every_article_shown_names_what_the_farmer_asked_about(exchange, need, named):
    """No general reading of the domain ("高温天气果园管理") for a specific question: an article is shown
    only when it names the need's crop, animal, pest, disease, drug or symptom."""
    result = exchange.match_preview(need, "", top=3)
    assert result["articles"]
    for article in result["articles"]:
        text = f"{article['title']} {article.get('summary', '')} {' '.join(article.get('tags', []))}"
        assert any(word in text for word in named), article["title"]


def test_registering_twice_with_one_key_creates_one_user(exchange):
    first = exchange.register_user(FARMER, idempotency_key="chat-42")
    again = exchange.register_user(FARMER, idempotency_key="chat-42")
    assert first["id"] == again["id"]
    assert first["township"] == "四川省广安市岳池县坪滩镇"
    assert first["consent"]["purpose"] and first["share_contact"] is True


def test_a_registration_by_a_chair_records_who_registered_whom(exchange):
    chair = exchange.register_user({**FARMER, "name": "李主席", "phone": "13981234567", "role": "其他"})
    villager = exchange.register_user({**FARMER, "phone": "", "registered_by": chair["id"]})
    assert exchange.get_user(villager["id"])["registered_by"] == chair["id"]


@pytest.mark.parametrize("field,value,code", [
    ("phone", "12345", "invalid_phone"),
    ("role", "村长", "invalid_role"),
    ("township", "火星乡", "invalid_township"),
    ("name", "", "invalid_name"),
])
def test_bad_registration_input_is_refused_in_chinese(exchange, field, value, code):
    with pytest.raises(InputRejected) as refused:
        exchange.register_user({**FARMER, field: value})
    assert refused.value.code == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in refused.value.message)


def test_a_need_posted_twice_with_one_key_exists_once_and_moves_through_its_lifecycle(exchange):
    user = exchange.register_user(FARMER)
    body = {"text": "柑橘叶子发黄还掉果", "region": "四川省眉山市丹棱县", "user_id": user["id"]}
    need = exchange.create_need(body, idempotency_key="need-1")
    again = exchange.create_need(body, idempotency_key="need-1")
    assert need["id"] == again["id"]
    assert need["status"] == "matched" and need["matched_at"]
    assert [n["id"] for n in exchange.list_needs(user["id"])] == [need["id"]]
    assert exchange.set_need_status(need["id"], "contacted")["contacted_at"]
    resolved = exchange.set_need_status(need["id"], "resolved")
    assert resolved["status"] == "resolved" and resolved["resolved_at"]
    with pytest.raises(InputRejected):
        exchange.set_need_status(need["id"], "contacted")


@pytest.mark.parametrize("text", ["", "   ", "😀😀😀", "x" * 10_000])
def test_empty_or_huge_needs_are_refused_not_crashed(exchange, text):
    with pytest.raises(InputRejected):
        exchange.create_need({"text": text})


@pytest.mark.parametrize("text", ["'; DROP TABLE experts; --", "<script>alert(1)</script>", "🐷" * 50 + "猪瘟"])
def test_hostile_text_gets_a_sensible_result(exchange, text):
    result = exchange.match_preview(text)
    assert isinstance(result["experts"], list)
    assert exchange.get_expert(exchange.search_experts(domain="pig", top=1)[0]["id"])


def test_unknown_things_are_not_found(exchange):
    for call in (lambda: exchange.get_user("u-nobody"), lambda: exchange.get_need("n-nothing"),
                 lambda: exchange.get_expert("e-9999999")):
        with pytest.raises(NotFound):
            call()


def test_unknown_domain_codes_are_refused(exchange):
    with pytest.raises(InputRejected) as refused:
        exchange.match_preview("猪不吃食", domains=["unicorns"])
    assert refused.value.code == "unknown_domain"


def test_deleting_a_user_erases_them_and_their_needs(exchange):
    user = exchange.register_user(FARMER)
    need = exchange.create_need({"text": "我的电话13881234567 猪拉稀", "user_id": user["id"]})
    exchange.delete_user(user["id"])
    with pytest.raises(NotFound):
        exchange.get_user(user["id"])
    with pytest.raises(NotFound):
        exchange.get_need(need["id"])


def test_needs_posted_before_registering_are_erased_by_their_sender(exchange):
    kept = exchange.create_need({"text": "我叫王秀英 坪滩镇三组 猪拉稀", "sender": "s-other"})
    gone = [exchange.create_need({"text": f"我叫王秀英 坪滩镇三组 猪拉稀 {n}", "sender": "s-mine"}) for n in range(2)]
    assert exchange.delete_sender_needs("s-mine") == 2
    assert exchange.delete_sender_needs("s-mine") == 0
    for need in gone:
        with pytest.raises(NotFound):
            exchange.get_need(need["id"])
    assert exchange.get_need(kept["id"])["text"].startswith("我叫")


def test_feedback_and_township_funnel(exchange):
    user = exchange.register_user(FARMER)
    need = exchange.create_need({"text": "鱼早上都浮头", "region": "岳池县坪滩镇", "user_id": user["id"]})
    expert = need["match"]["experts"][0]["id"]
    assert exchange.add_feedback(need["id"], "helpful", expert)["verdict"] == "helpful"
    with pytest.raises(InputRejected):
        exchange.add_feedback(need["id"], "meh", expert)
    exchange.set_need_status(need["id"], "resolved")
    week = exchange.township_stats(user["township_code"], weeks=2)["weeks"][-1]
    assert week == {**week, "registered": 1, "needs_posted": 1, "matched": 1, "resolved": 1}


def test_articles_found_by_topic(exchange):
    articles = exchange.search_articles("非洲猪瘟怎么防", top=3)
    assert articles and "pig" in articles[0]["domains"]


def test_warming_loads_every_table_a_first_match_would(sqlite_service):
    """Ten first read-backs at once would each load a table not yet read, in ten threads: the service phrases
    too, which a need about a sick animal never reads."""
    from exchange.api import warm
    from exchange.matching import knowledge

    knowledge.intent_terms.cache_clear()
    warm(sqlite_service)
    assert knowledge.intent_terms.cache_info().currsize == 1
