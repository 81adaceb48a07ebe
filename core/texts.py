"""Every sentence the assistant's own code says to people, outside the dialogue, in one catalogue.

Why one place: the dialogue's words are Rasa responses (``domain/*.yml``); everything else a person reads
(the desks, the channels, the core, the outbox, the actions' buttons and read-backs) is here, grouped by
who reads it, so wording is reviewed, kept consistent and translated in one file. Values go in as
``{placeholders}`` filled with ``str.format``. ``tests/test_text_catalogue.py`` fails on a Chinese string
literal anywhere else (lexical data, such as the words a farmer types, is allowlisted there).
"""

from __future__ import annotations


class Farmer:
    """What anyone talking to the assistant reads (a villager, mostly) outside the dialogue's responses."""

    # the core's front door
    TOO_LONG = "消息太长了 😅 请分几次发，每次不超过 {limit} 字。"
    VOICE_RECEIVED = "收到你的语音 🎤 我现在还听不懂语音。可以打字告诉我，或者转给志愿者听。"
    TYPE_INSTEAD = "我打字说"
    ASK_VOLUNTEER = "找志愿者"
    WARMING_UP = "我刚启动，正在准备，马上回复你（大约半分钟）……"
    PHOTO_RECEIVED = "收到照片 📷 会附在需求上一起发给专家。"
    # a photo sent with no words is read as this question (the read-back then asks which crop or animal)
    PHOTO_AS_QUESTION = "帮我看看照片上这是什么问题"
    LOCATION_RECEIVED = "收到位置 📍 你在{city}一带，我会优先找附近的专家。写上乡镇（比如：岳池县坪滩镇）会更准。"
    LOCATION_OUTSIDE = "收到位置 📍 这个位置不在四川省内。请告诉我你在哪个县、哪个乡镇。"
    BROKEN = "不好意思，刚才出了点问题 😥 请再发一次，或者点“找人工”。"
    ASK_HUMAN = "找人工"
    EXPIRED_BUTTON = "这个按钮已经过期了，请重新说一下。"
    UNKNOWN_COMMAND = "这个命令我不认识 🤔 直接打字跟我说就行，或者发 /help 看看我能做啥。"
    SLOW_DOWN = ("消息发得有点快 🙏 为了让大家都用得上，每人每 {seconds} 秒最多 {messages} 条。"
                 "多出来的我先不处理了，请歇一会儿再发。")

    # taking over an account a chair registered (desks/handover.py)
    HANDOVER_REFUSED = "这个接管码不对，或者已经用过、过期了。请找乡镇科协主席重新要一个。"
    ASK_DIGITS = "为了确认是你本人，请发你登记的手机号的最后 4 位数字。"
    TAKEN_OVER = "✅ 确认好了，这个账号现在由你自己管了。"
    WRONG_DIGITS = "手机号后 4 位不对，账号没有接管。可以再点一次链接重试；错多了链接会失效，要请乡镇科协主席重新登记。"
    TOO_MANY_TRIES = "试错次数太多了，为了保护大家的账号，请过一小时再试。"
    HANDOVER_EXCHANGE_DOWN = "平台暂时连不上，请过一会儿再点一次链接。"

    # a chair's invitation, and a registration someone else tried on this person's phone
    INVITED = "欢迎！你是{township}科协邀请来的 👋"
    OWNER_TOLD = "{township}科协主席刚才想用你的手机号 {phone} 再登记一个账号，已经拒绝了，你的账号没有变化。有疑问请发“转人工”。"

    # the outbox worker, once a write kept while the exchange was down has arrived (or been refused)
    REGISTRATION_SUBMITTED = "✅ 平台恢复了，你的注册已经提交好了。"
    REGISTRATION_CHANGE_SUBMITTED = "✅ 平台恢复了，你改的注册信息已经提交好了。"
    NEED_SUBMITTED = "✅ 平台恢复了，你的需求已经发出去了（编号 {need_id}）。{experts}"
    NEED_EXPERTS = "最对口的专家：{names}。说“转人工”可以请志愿者帮你联系。"
    NEED_NO_EXPERTS = "暂时没有找到对口的专家，说“转人工”请志愿者帮你找。"
    DELETION_SUBMITTED = "✅ 你在科技交易平台上的信息也已经删除了。"
    WRITE_REFUSED = "😥 你之前的{what}平台没有收下：{reason}。可以重新说一次，或者说“转人工”。"
    WRITE_STUCK = "😥 你之前的{what}没发成功，我们记下了，工作人员会尽快处理。着急可以说“转人工”。"
    WRITE_WHAT = {"register_user": "注册", "update_user": "注册信息修改", "create_need": "需求", "add_feedback": "反馈",
                  "delete_user": "注销申请"}
    REPLY_UNREADABLE = "平台的回复无法识别"
    VALUE_UNSAVABLE = "平台无法保存这条内容"

    # a volunteer's case (desks/volunteers.py)
    CASE_WAITING = "志愿者还没接手，你说的话已经记下了（案件号 {number}）。不想等了可以发 /cancel。"
    CASE_CANCELLED = "好的，已取消人工服务（案件号 {number}）。我继续为你服务，有问题直接说。"
    CASE_CLAIMED = "志愿者已经接手你的案件（{number}），接下来的消息会直接转给 TA。"
    CASE_DONE = "志愿者已结束这次服务（案件号 {number}）。问题解决了吗？"
    FROM_VOLUNTEER = "志愿者：{text}"
    SOLVED = "解决了"
    NOT_YET = "还没有"
    UNREACHABLE = "没联系上"

    # an expert's case (desks/experts.py)
    EXPERT_ACCEPTED = "好消息！专家 {name} 接受了你的需求（案件号 {number}）。{phone}你在这里发的消息会转给 TA。"
    EXPERT_PHONE = "TA 的电话：{phone}。"
    END_TALK = "结束对话"
    FROM_EXPERT = "专家 {name}：{text}"
    NO_EXPERT_TALK = "现在没有和专家的对话。"
    ASK_OUTCOME = "好的。专家帮你看的问题（案件号 {number}）解决了吗？"
    FOLLOW_UP = "你好！专家帮你看的问题（案件号 {number}：{summary}）解决了吗？"
    OUTCOME_KNOWN = "这个反馈已经收到过了，谢谢！"
    OUTCOME_NOT_KEPT = "反馈没能记下：{reason}"
    OUTCOME_THANKS = {"resolved": "太好了 🎉 谢谢反馈！有新问题随时找我。",
                      "not_yet": "好的，你的需求重新打开了。可以重新描述问题换一批专家，或者找志愿者帮忙。"}
    PASSED_TO_EXPERT = "{why}，已转给专家 {name}（案件号 {number}），TA 接受后我马上告诉你。"
    PASSED_TO_VOLUNTEER = "{why}，我已请志愿者帮你跟进（案件号 {number}，排第 {position} 位，大约等 {minutes} 分钟）。"
    EXPERT_BUSY = "这位专家暂时不方便"
    EXPERT_UNREACHABLE = "抱歉没联系上"
    EXPERT_SILENT = "专家一直没回复"
    PHOTO_ATTACHED = "收到照片 📷 已附在你的需求（编号 {need_id}）上，专家会一起看到。"

    # the weekly 科普 push (core/pushes.py); the button sends the word the unsubscribe action reads
    WEEKLY_ARTICLE = "📖 本周「{domain}」科普：{title}\n{summary}"
    HAVE_A_QUESTION = "我有具体问题"
    UNSUBSCRIBE = "退订"

    # what the actions put into the dialogue's responses (the responses themselves are in domain/)
    NEED_DOMAINS = "领域：{domains}"
    NEED_SUBJECTS = "对象：{subjects}"
    NEED_TEXT = "情况：{text}"
    NEED_PLACE = "地点：{region}"
    NEED_URGENT = "紧急：是，尽快处理"
    DOMAIN_UNDECIDED = "待定"
    NONE_OF_THESE_HUMAN = "都不是，找人工"
    NONE_OF_THESE_RETYPE = "都不是，我重新写"
    NONE_FIT = "都不合适"
    EXPERT_TITLE = "专家"
    EXPERT_REASON = "领域对口"
    CONTACT_SHARED = "已同意把联系方式提供给匹配的专家。"
    CONTACT_NOT_SHARED = "你没有同意提供联系方式，专家只能在平台里联系你。"
    NEED_STATUS = {"open": "等待匹配", "matched": "已匹配专家，等专家联系", "contacted": "专家已联系",
                   "resolved": "已解决 ✅", "closed": "已关闭"}
    TODAY = "今天"
    DAYS_AGO = "{days}天前"

    # the consent a person gives, kept with their user on the exchange
    CONSENT_PURPOSE = "注册科技帮，把需求匹配给科技专家并由专家联系"
    CONSENT_SCOPE = "姓名、手机号、乡镇、身份"
    ONBOARD_PURPOSE = "注册科技帮，把需求匹配给科技专家并由专家联系（村民口头同意，由乡镇科协主席代为登记）"


class Staff:
    """What every role holder (volunteer, chair, expert) reads about their role."""

    ROLE_TITLES = {"chair": "乡镇科协主席", "volunteer": "科普志愿者", "expert": "科技专家"}
    CODE_REFUSED = "授权码不对，或者已经用过、过期了。请找管理员重新要一个。"
    GRANTED = "授权成功：你现在是{title}。{next_step}"
    REVOKED = "你的“{title}”身份已被管理员取消，相关命令不能再用了。如有疑问，请联系县科协。"
    HELP_ROLE = "授权码 领取身份"


class Volunteer:
    """What a 科普志愿者 reads: the queue, their cases, the farmers' words."""

    NOT_ALLOWED = "这个命令只有科普志愿者能用。请找管理员要一次性授权码，然后发送：/role 授权码"
    NEXT_STEP = "发 /queue 查看待处理的求助。"
    QUEUE_EMPTY = "现在没有待处理的求助 👍"
    QUEUE = "待处理的求助（最早的在前）：\n{cases}"
    CASE_LINE = "#{number}（等了 {minutes} 分钟）{domain}{summary}"
    CASE_DOMAIN = "【{domain}】"
    CASE_DETAILS = "#{number} 的情况：{summary}\n用户最近说：\n{said}"
    SAID_LINE = "· {text}"
    NOTHING_SAID = "（还没有）"
    NO_SUMMARY = "（无）"
    CLAIM_BUTTON = "接手 #{number}"
    CLAIM_USAGE = "用法：/claim 案件号，例如 /claim 12"
    CLAIM_MISSING = "案件 #{number} 不存在，或者已经有人接手了。"
    CLAIMED = "你已接手 #{number}。直接发消息就会转给用户；结束时发 /done {number} 处理说明。"
    NOT_BRIEFED = "\n（没能私聊你，用户说的话你收不到：请先私聊我一次。）"
    DONE_USAGE = "用法：/done 案件号 处理说明，例如 /done 12 已电话指导用药"
    DONE_NOT_YOURS = "案件 #{number} 不是你在处理的案件，或者已经关闭了。"
    CLOSED = "#{number} 已关闭。"
    USER_CANCELLED = "用户取消了 #{number}。"
    CANCELLED_NOTE = "用户取消"
    FROM_USER = "#{number} 用户：{text}"
    NEW_CASE = "🙋 有人需要帮忙：\n{case}"
    # a WeChat user past the 48-hour window (or the reply limit): told once, until they write again
    UNREACHABLE = ("📵 联系不上微信用户 {person}{case}：TA 超过 48 小时没发消息（或回复太多），"
                   "已有 {count} 条消息在等，TA 下次发消息时一起送到。")
    UNREACHABLE_CASE = "（案件 #{number}）"
    # the summaries of cases opened for a volunteer when no expert could be reached
    CONTACT_EXPERT = "请帮忙联系专家 {name}（{expert_id}）。需求 {need_id}：{summary}"
    CONTACT_EXPERT_AT = "请帮忙联系专家 {name}（{organization}，{expert_id}）。需求 {need_id}：{summary}"
    NO_EXPERT_LEFT = "没有专家接手需求 {need_id}：{summary}"
    HELP_QUEUE = "看待处理的求助"
    HELP_CLAIM = "案件号 接手"
    HELP_DONE = "案件号 说明 结案"


class Chair:
    """What a 乡镇科协主席 reads: invitations, the funnel, registering villagers without a smartphone."""

    NOT_A_CHAIR = "这个命令只有乡镇科协主席能用。请找管理员要一次性授权码，然后发送：/role 授权码"
    INVITE = "{township} 的邀请链接：\n{link}\n村民扫码或点链接就能注册，乡镇会自动填好。"
    ONBOARD_USAGE = "用法：/onboard 姓名 手机号 [身份]，例如：/onboard 王秀英 13881234567 农户"
    DEFAULT_ROLE = "农户"
    CONSENT_SCRIPT = ("请向{name}读一遍：“科技帮会记录你的姓名和电话，用于把你的技术需求匹配给专家，由专家联系你；"
                      "你可以随时要求删除。”\n{name}同意了吗？")
    CONSENT_GIVEN = "已口头同意，登记"
    CONSENT_REFUSED = "不同意，不登记"
    ALREADY_HAS_ACCOUNT = "{phone} 这个号码已经有科技帮账号了，不能再登记，也不发接管链接。请本人直接用自己的手机找科技帮。"
    REGISTRAR_TOLD = "{township}科协主席刚才想再登记你登记过的 {phone}，已经拒绝了，接管链接仍只在你这里。"
    ONBOARDED = ("已为{name}（{phone}）登记好了。\n以后 TA 有了智能手机，点这个链接就能接管自己的账号（{hours} 小时内有效，"
                 "要回答手机号后 4 位；再登记一次会换新链接，旧的作废）：\n{link}\n或者在科技帮里发送：/start tk-{token}")
    ONBOARD_EXCHANGE_DOWN = "交易平台暂时连不上，请稍后再登记一次（不会重复）。"
    STATS_EXCHANGE_DOWN = "交易平台暂时连不上，统计稍后再看。"
    FUNNEL_LABELS = {"invited": "邀请", "registered": "注册", "needs_posted": "发需求", "matched": "已匹配", "resolved": "已解决"}
    FUNNEL_HEADER = "{township} 本周 / 上周："
    FUNNEL_LINE = "{label}：{now} / {before} {trend}"
    LAST_WEEK = "上周"
    THIS_WEEK = "本周"
    HELP_INVITE = "生成本乡镇的邀请链接和二维码"
    HELP_STATS = "看本乡镇本周和上周的数据"
    HELP_ONBOARD = "姓名 手机号 [身份] 替没有智能手机的村民登记"
    HELP_ONBOARD_CONFIRM = "村民口头同意后确认登记"


class Expert:
    """What a 科技专家 reads: offers, their cases, availability, the weekly summary."""

    NOT_EXPERT = "这个命令只有科技专家能用。请找管理员要一次性授权码，然后发送：/role 授权码"
    NEXT_STEP = "匹配到你的求助会发到这里。发 /mine 查看手上的需求，/pause 暂停接收，/resume 恢复。"
    NOT_YOURS = "案件 #{number} 不在你这里，或者已经处理过了。发 /mine 看看你手上的需求。"
    ACCEPTING = "正在接收新需求（最多同时 {capacity} 个）"
    NOT_ACCEPTING = "已暂停接收新需求（发 /resume 恢复）"
    NOTHING_IN_HAND = "{state}。\n现在手上没有需求。"
    IN_HAND = "{state}。\n你手上的需求：\n{cases}"
    CASE_LINE = "#{number}（{status}，{hours:.0f} 小时前）{summary}"
    OFFERED = "待回复"
    TALKING = "对话中"
    TALK_BUTTON = "和 #{number} 对话"
    PAUSED = "已暂停接收新需求，手上的需求照常。恢复时发 /resume。"
    RESUMED = "已恢复接收新需求 👍"
    CAPACITY_USAGE = "用法：/capacity 数量，例如 /capacity 5（最多同时处理 5 个需求）"
    CAPACITY_SET = "好的，最多同时处理 {number} 个需求。"
    SERVE_USAGE = "用法：/serve 地名，例如 /serve 岳池县 武胜县；不限地区发 /serve 全部"
    SERVE_EVERYWHERE_WORD = "全部"
    SERVE_EVERYWHERE = "好的，全省的需求都可以发给你。"
    SERVE_ONLY = "好的，只给你发这些地方的需求：{places}"
    CASE_NUMBER_MISSING = "请在命令后写上案件号，例如 /accept 12"
    NOT_ACCEPTED = "没能接受：{reason}"
    ACCEPTED = "你已接受 #{number}。{contact}你在这里发的消息会转给农户；有几个对话时，用 /talk 案件号 切换。"
    FARMER_PHONE = "农户 {name} 的电话：{phone}。"
    FARMER_HIDDEN = "农户的联系方式不公开。"
    NOT_PASSED = "没能转出：{reason}"
    PASSED = "好的，#{number} 已转给同行专家。"
    DECLINED = "好的，#{number} 已转给其他专家。谢谢！"
    TALKING_WITH = "现在和 #{number} 的农户对话：{summary}"
    FROM_FARMER = "#{number} 农户：{text}"
    FARMER_PHOTO = "#{number} 农户发来照片"
    OFFER = "📋 新的求助 #{number}\n领域：{domains}\n地点：{region}\n求助人：{who}\n内容：{text}"
    UNCLASSIFIED = "未分类"
    PLACE_UNSAID = "未说明"
    FARMER_NAMED = "{name}（同意提供联系方式）"
    FARMER_UNNAMED = "农户（未公开联系方式，可通过我转达）"
    ACCEPT = "接受"
    PASS = "转给同行"
    DECLINE = "暂不方便"
    REMINDER = "⏰ 提醒：求助 #{number} 还在等你回复（{summary}）。{hours} 小时内没有回复，会转给其他专家。"
    TIMED_OUT = "求助 #{number} 超时未回复，已转给其他专家。"
    OUTCOME = {"resolved": "#{number} 农户反馈：问题解决了 👍 谢谢你！",
               "not_yet": "#{number} 农户反馈：问题还没解决，需求已重新打开。",
               "unreachable": "#{number} 农户反馈：没联系上，需求已转给其他专家。"}
    WEEKLY_SUMMARY = ("📊 本周小结：收到 {received} 个求助，接受 {accepted} 个，已解决 {resolved} 个。"
                      "谢谢你帮助乡亲们！发 /mine 查看手上的需求。")
    HELP_MINE = "看手上的需求"
    HELP_PAUSE = "暂停接收新需求"
    HELP_RESUME = "恢复接收新需求"
    HELP_CAPACITY = "数量 设最多同时处理几个需求"
    HELP_SERVE = "地名 只接这些地方的需求（全部：不限地区）"
    HELP_ACCEPT = "案件号 接受求助"
    HELP_PASS = "案件号 转给同行"
    HELP_DECLINE = "案件号 暂不方便"
    HELP_TALK = "案件号 切换到这个农户的对话"
    HELP_END = "结束和专家的对话"
    HELP_OUTCOME = "案件号 结果 告诉专家问题解决了没有"


class Channel:
    """What a messaging app's own chrome says: numbered choices, the volunteers' group, menus, the terminal."""

    CHOOSE_BY_NUMBER = "回复数字："
    GROUP_HELP = "群里可以用：{commands}。其他命令请私聊我。"
    GROUP_REFUSED = "这个命令不能在群里用，请私聊我。"
    # channels without the app's own media (a photo's reference from another app cannot be shown everywhere)
    PHOTO_ELSEWHERE = "（对方发了一张照片，这里显示不了。）"
    # WeChat: the start code to send when no QR code could be made (the WeChat API was unreachable)
    SEND_START_CODE = "在科技帮公众号里发送：/start {payload}"
    MENU = {"/describe_need": "说说问题", "/request_human": "找人工", "/help": "帮助"}  # an account's menu: payload → title
    TERMINAL_PROMPT = "你："
    TERMINAL_INTRO = "（输入文字聊天，输入按钮前的数字选择，/quit 退出）"
    TERMINAL_SPEAKER = "科技帮："
    TERMINAL_SILENT = "科技帮：（没有回复）"


class Operator:
    """What the person running the assistant reads on the console when a channel or the dialogue starts."""

    LONG_POLLING = "长轮询"
    WEBHOOK = "webhook，监听 127.0.0.1:{port}/{path}"
    BOT_STARTED = "{app} 机器人已启动（{mode}）。"
    SAFE_MODE = "安全模式"
    PLAIN_MODE = "明文模式"
    ACCOUNT_STARTED = "微信公众号已启动（{mode}，监听 127.0.0.1:{port}{path}）。"
    REPLAYED = "上次停止前没答完的 {count} 条消息重新处理。"
    # the kejibang command's answers
    VALIDATION_PROBLEMS = "{count} 个问题"
    VALIDATED = "训练数据校验通过：0 个警告"
    EXCHANGE_SERVING = "交易平台：http://{host}:{port}  数据库：{database}"
    IMPORT_REFUSED = "{count} 行有误，未导入任何记录"
    IMPORTED = "{kind}：新增 {created}，更新 {updated}"
    ROLE_CODE = "{title}一次性授权码：{code}"
    ROLE_CODE_EXPIRES = "有效期至：{expires:%Y-%m-%d %H:%M} UTC。请当面交给本人，让 TA 在机器人里发送：/role {code}"
    EXAMPLE_TOWNSHIP = "岳池县坪滩镇"
    CHAIR_TOWNSHIP = "乡镇：{township}（{code}）"
    EXPERT_FOR_CODE = "专家：{name}（{organization}，{expert_id}）"
    ROLE_CHOICES = "要写 {roles} 之一"
    ROLE_NOT_HELD = "{chat} 没有“{title}”身份，没有改动"
    ROLE_REVOKED = "已取消 {chat} 的“{title}”身份（已记入审计日志）；TA 下次发消息时会收到通知。"
    OUTBOX_COUNTS = "待发 {waiting} 条；发送失败（死信）{dead} 条"
    DEAD_LETTER_EMPTIED = "（内容已清除，不能重发）"
    DEAD_LETTER = "#{id}  {at:%Y-%m-%d %H:%M:%S}  {chat}  {write}  尝试 {attempts} 次  {code}：{reason}{note}"
    NO_DEAD_LETTER = "没有编号为 {id} 的死信"
    CANNOT_RETRY = "#{id} 的内容已经清除，不能重发"
    SUPERSEDED = "#{id} 已有更新的同一写入在待发队列里，那一条会发出；这条死信已删除"
    RETRIED = "#{id} 已放回待发队列，机器人运行时几秒内会重新发送"
    KEY_COUNT = "共 {count} 个密钥"
    KEY_REVOKED_AT = "已吊销 {at}"
    KEY_VALID = "有效"
    EXAMPLE_KEY_HOLDER = "天府科技云"
    KEY_ISSUED = "已发放 {id}（{scope}，{name}）。密钥只显示这一次，请妥善保存："
    KEY_REVOKED = "已吊销 {id}（{scope}，{name}）"
    PURGED = "已删除 {days} 天前的对话记录 {events} 条、收件记录 {updates} 条"
    NOTHING_SEEDED = "已有数据，未导入"

    # kejibang run's start-up report, one line a part
    REMOTE_EXCHANGE = "· 交易平台：远程 {url}"
    SAMPLE_IMPORTED = "· 导入样例 {kind}：新增 {created} 条"
    EMBEDDED_EXCHANGE = "· 交易平台：内置，数据库 {database}"
    MODEL_READY = "· 模型：{path}（{seconds:.1f} 秒）"
    RASA_SERVER = "· 对话引擎：Rasa 服务器 {url}：{model}"
    LOADING_MODEL = "· 正在加载模型 …"
    LOADING_WORKERS = "· 正在启动 {count} 个对话进程（每个加载一份模型）…"
    WORKERS_READY = "· 对话引擎：{count} 个进程，每人固定由其中一个接待，{seconds:.1f} 秒就绪；对话记录 {tracker}"
    WORKER_FAILED = "对话进程启动失败，见日志 {log}"
    WORKERS_NOT_READY = "对话进程 {seconds:.0f} 秒内没有就绪，见日志 {log}"
    MODEL_LOADED = "· 对话引擎：本进程内，模型加载用时 {seconds:.1f} 秒；对话记录 {tracker}"
    PRESS_CTRL_C = "按 Ctrl+C 停止。"
    FRONT_ENDS = "· 前端：{names}"
    TERMINAL_CHAT = "终端聊天"
    LOG_FILE = "· 日志：{path}（终端留给聊天）"
    BOT = "{app} 机器人"
    OFFICIAL_ACCOUNT = "微信公众号"
    SECRET_MISSING = "请设置 {variable}：没有它，本机任何进程都能冒充任何用户和对话引擎对话"
    RASA_TOKEN_MISSING = "请设置 RASA_TOKEN：没有它，Rasa 的 HTTP 接口谁都能读对话、换模型"
    NO_CURRENT_MODEL = "没有当前训练数据的模型 {path}：请先运行 kejibang train"
    MODEL_CORRUPT = "模型文件损坏，重新训练：{path}"
    TRAINING = "训练模型（输入已变化）：{name} …"
    RASA_TOKEN_REFUSED = "HTTP {status}（RASA_TOKEN 对吗？）"
    RASA_UNREACHABLE = "连不上（{error}）"
