"""Words the FAQ matcher knows about the way Pakistani customers write (data only; handlers/faq.py uses it).

Every entry is written as people type it; faq.py normalises the keys the same way it normalises a
message (Urdu letter variants, diacritics, repeated Latin letters), so variants need not be listed twice.
Nothing here is shop-specific: a shop's own questions live in templates/<lang>/faq.toml.
"""

from __future__ import annotations

# Phrases first joined into one token (before words are split), written in normalised form.
PHRASES = {
    "cash on delivery": "cod",
    "cash on dilivery": "cod",
    "cash on delivry": "cod",
    "cash on deliver": "cod",
    "c o d": "cod",
    "کیش آن ڈیلیوری": "cod",
    "کیش آن ڈلیوری": "cod",
    "کیش آن ڈیلوری": "cod",
    "jazz cash": "jazzcash",
    "جاز کیش": "jazzcash",
    "easy paisa": "easypaisa",
    "easy paisaa": "easypaisa",
    "easy pesa": "easypaisa",
    "ایزی پیسہ": "easypaisa",
    "ایزی پیسا": "easypaisa",
    "whats app": "whatsapp",
    "واٹس ایپ": "whatsapp",
    "وٹس ایپ": "whatsapp",
    "واٹس اپ": "whatsapp",
    "ای میل": "email",
    "e mail": "email",
    "same day": "sameday",
    "اسی دن": "sameday",
    "size chart": "sizechart",
    "size guide": "sizechart",
    "سائز چارٹ": "sizechart",
    "online transfer": "bank transfer",
    "credit card": "card",
    "debit card": "card",
    "customer care": "contact",
    "customer service": "contact",
    "customer support": "contact",
    "how long": "duration",
    "how many days": "duration",
    "how soon": "duration",
    "how fast": "duration",
    "kitne din": "duration",
    "kitne dino": "duration",
    "kitne dinon": "duration",
    "kitna time": "duration",
    "kitne time": "duration",
    "kitna waqt": "duration",
    "kitne waqt": "duration",
    "کتنے دن": "duration",
    "کتنے دنوں": "duration",
    "کتنا وقت": "duration",
    "کتنا ٹائم": "duration",
    "kitne roz": "duration",
    "kis tarah": "how",
    "kis tarha": "how",
    "kis trah": "how",
    "کس طرح": "how",
    "ke paise": "charges",
    "ke pese": "charges",
    "ke paisay": "charges",
    "کے پیسے": "charges",
    "paise lagte": "charges",
    "paise lagenge": "charges",
    "paisay lagte": "charges",
    "پیسے لگتے": "charges",
    "pata karna": "check",
    "pata karen": "check",
    "pata karein": "check",
    "pata kar": "check",
    "have to pay": "charges",
    "pay for delivery": "charges",
    "pay for shipping": "charges",
    "dene honge": "charges",
    "dene parenge": "charges",
    "dena parega": "charges",
    "دینے ہوں گے": "charges",
    "pata chale": "check",
    "pata chalega": "check",
    "pata nahi": "check",
    "معلوم": "check",
    "how much": "charges",
    "kitne paise": "charges",
    "kitne pese": "charges",
    "kitne paisay": "charges",
    "kitna lagega": "charges",
    "kitne ka": "charges",
    "کتنے پیسے": "charges",
    "کتنا لگے گا": "charges",
    "اوقات کار": "timing",
    "working hours": "timing",
    "opening hours": "timing",
    "business hours": "timing",
    "workin hours": "timing",
    "work hours": "timing",
    "بیرون ملک": "abroad",
    "outside pakistan": "abroad",
    "pakistan se bahar": "abroad",
    "out of pakistan": "abroad",
    "money back": "refund",
    "پیسے واپس": "refund",
    "paise wapas": "refund",
    "paisay wapas": "refund",
    "pese wapas": "refund",
    "paise wapis": "refund",
    "paisay wapis": "refund",
    "رقم کی واپسی": "refund",
    "رقم واپس": "refund",
    "اسلام آباد": "islamabad",
    "فیصل آباد": "faisalabad",
    "ایبٹ آباد": "abbottabad",
    "rahim yar khan": "city",
    "dera ghazi khan": "city",
    "ڈیرہ غازی خان": "city",
    "رحیم یار خان": "city",
}

# canonical token: its variants (Latin and Urdu script). Cross-script loanwords share one token, so an
# Urdu-script example helps a Roman Urdu question and the other way round.
CANONICAL = {
    "order": "order orders ordered ordering ordr odr oder parcel parcels parsal parcal package packages packet "
    "item items product products saman samaan cheez chiz maal آرڈر آرڈرز آڈر پارسل پیکٹ پیکج سامان چیز "
    "پروڈکٹ آئٹم",
    "delivery": "delivery deliveries delivry dilivery delievery dilevery delivary deliver delivers "
    "ڈیلیوری ڈلیوری ڈیلوری ڈلوری ڈیلیور "
    "shipping shipment ship ships shipped dispatch dispatched شپنگ",
    "refund": "refund refunds refunded ریفنڈ رفنڈ",
    "return": "return returns back wapas wapis wapsi waapis wapas ریٹرن واپس واپسی",
    "warranty": "warranty warrenty waranty warrantee guarantee guaranty garanti gurantee وارنٹی گارنٹی",
    "size": "size sizes saiz سائز سائیز",
    "exchange": "exchange exchnage exchang swap badal badalna badalni badli badlein badlna badlwana "
    "tabdeel تبدیل بدل بدلنا بدلوانا بدلی ایکسچینج",
    "payment": "payment payments pay paying pament paymnt adaigi adaygi ادائیگی پیمنٹ ادا",
    "jazzcash": "jazzcash jazcash jazcsh",
    "easypaisa": "easypaisa easypesa easypaisaa",
    "bank": "bank banks بینک بنک",
    "card": "card cards کارڈ",
    "cod": "cod",
    "cash": "cash naqad naqd کیش نقد",
    "charges": "charges charge charjes charjez charged fee fees cost costs kharcha kharch چارجز چارج فیس خرچہ خرچ",
    "free": "free muft فری مفت",
    "kitna": "kitna kitne kitni kitny kitnay ktne ktna ktni کتنا کتنے کتنی",
    "day": "day days din dino dinon dn دن دنوں",
    "duration": "duration period window muddat mudat arsa عرصہ مدت",
    "time": "time waqt وقت ٹائم",
    "timing": "timing timings timming timeing ٹائمنگ اوقات baje bje bajay bajy بجے "
    "hour hours oclock am pm morning evening night subah shaam sham raat صبح شام رات",
    "open": "open opens opening khul khulti khulta khulte khule khuli khulay khulega khulegi khulenge "
    "کھل کھلتی کھلتا کھلتے کھلا کھلی کھلے close closes closing band bnd بند",
    "unpack": "khol kholna kholkar kholke kholte کھول",
    "when": "when kab kb کب",
    "where": "where kahan kahaan kaha kidhar kidhr kdr کہاں کدھر",
    "how": "how kaise kese kaisay kesay kaisy kaysay kesy کیسے",
    "arrive": "come comes coming arrive arrives arriving reach reaches aye aaye aayega ayega aega aaega aiga "
    "ayegi aayegi aegi aaegi ata aata aati ati aate ate aana ana pohanch pohnch pahunch pohanchta "
    "pohanchti pahunchta pohncha pohanchega expect آ آئے آئیگا آتا آتی آتے آنا پہنچ پہنچتا پہنچتی پہنچے "
    "get gets receive received mil milega milegi milta milti mile mila milay mily ملے ملتا ملتی ملا مل",
    "city": "city cities sheher shehar shahar town towns village villages gaon gaaon qasba "
    "شہر قصبہ قصبے گاؤں دیہات "
    "karachi lahore islamabad rawalpindi pindi peshawar quetta multan faisalabad hyderabad sialkot "
    "gujranwala sukkur bahawalpur abbottabad sargodha mardan gujrat larkana sahiwal jhelum okara "
    "kasur mirpur gilgit skardu murree swat nawabshah chitral "
    "کراچی لاہور راولپنڈی پنڈی پشاور کوئٹہ ملتان حیدرآباد سیالکوٹ "
    "گوجرانوالہ سکھر بہاولپور سرگودھا مردان گجرات لاڑکانہ ساہیوال جہلم",
    "abroad": "abroad international overseas foreign bahar bahir باہر dubai uae saudi uk usa canada america "
    "london دبئی سعودی امریکہ",
    "country": "country countries mulk ملک",
    "pakistan": "pakistan pak پاکستان",
    "shop": "shop shops store stores dukan dokan outlet branch showroom دکان دوکان شاپ سٹور اسٹور",
    "address": "address adress addres location located situated pata pta jagah jaga لوکیشن پتہ پتا جگہ",
    "number": "number numbers nmbr numbr num نمبر",
    "phone": "phone fone call calls فون کال",
    "contact": "contact rabta raabta helpline baat بات رابطہ",
    "whatsapp": "whatsapp watsapp whatsap watsap واٹساپ",
    "email": "email mail",
    "cancel": "cancel cancell cancelled canceled cansel cancellation cancelling canceling cancl منسوخ کینسل",
    "track": "track tracking trak traking trace ٹریک ٹریکنگ",
    "status": "status halat صورتحال سٹیٹس اسٹیٹس",
    "check": "check chek dekh dekhna dekhein دیکھ چیک",
    "big": "big bigger large larger bara bada بڑا",
    "small": "small smaller chota chhota چھوٹا",
    "colour": "colour color colours colors rang رنگ",
    "accept": "accept accepted accepts qabool قبول",
    "available": "available availability dastyab dastiyab mojood maujood دستیاب موجود",
    "policy": "policy polici polcy policies method methods option options process procedure tareeqa tareeka "
    "tarika tariqa tareqa way طریقہ طریقے پالیسی",
    "sunday": "sunday sundays itwar itwaar اتوار",
    "today": "today aaj آج tomorrow kal کل",
    "money": "money paise paisay pese pesay paisa raqam rupay rupees rs روپے رقم پیسے",
    "chart": "chart guide چارٹ",
    "visit": "visit ao",
    "claim": "claim claims کلیم دعوی",
    "send": "send sent bhej bhejo bhejna bhejni bhejein bhejen bhejte bhejun bhejdo بھیج بھیجیں بھیجنا بھیجتے بھیجو",
    "until": "until till til",
}

# Words that carry (almost) no meaning for telling answers apart: they weigh little.
STOPWORDS = set(
    """
i me my mine we us our you u your ur yours is are am was were be been being the a an to of in on at for from by
with and or it its this that these those there here do does did can could will would shall should may might
have has had please pls plz sir madam maam dear kindly tell let know any some also just about if so then im
what whats wat which who whom whose your i'd id want need like get got ok okay hey
kya kia hai he hay hy hain hen hn ka ki ke ko se sy me mein main mai mei mn ho hu hun hoon bhi aur ya to tu
toh ap aap apka apki apke aapka aapki aapke apko aapko apne aapne hum ham hamara hamari hamare mujhe mujhy
muje mjhe mera meri mere mra mri mry ye yeh yah wo woh bhai bhaiya bhaijan yar yaar ji jee g janab sahab
kar kr karna karni karne krna krni krne karen karein krein karun karoon karo kro raha rahi rahe rha rhi rhe
ga gi ge gay tha thi thay hota hoti hote hotay sakta sakti sakte skta skti skte sakun sake dein dain de do
dena den batao bataen bataye bataiye batain btao bata jata jati jate jaye jaega jayega jaegi jayegi wala
wali wale kuch koi sab is us iss uss es un pe par tak k ky liye lie doon dun possible mumkin ممکن r y take taken lena lete leta le
chalta chalti chalte chalega works work sahulat facility سہولت show dikha dikhao دکھا دکھائیں
offer offers provide give gives dete deti dete دیتے دیتی nay ne lagta lagti lagte lagega lagenge
lagay lagte lag hoga hogi hongi honge hona hone kis kon kaun konsa konse sa se pehle pehla bas
کیا ہے ہیں ہو ہوں کا کی کے کو سے میں بھی اور یا تو آپ آپکا آپکی ہم ہمارا ہماری ہمارے مجھے میرا میری میرے یہ
وہ جی بھائی پلیز براہ کرم مہربانی کر کریں کرنا کرنی کرنے کروں رہا رہی رہے گا گی گے تھا تھی تھے ہوتا ہوتی ہوتے
سکتا سکتی سکتے سکوں دیں دے دو بتائیں بتا بتادیں جاتا جاتی جاتے جائے والا والی والے کچھ کوئی اس ان پر تک نے جو
لیے لگتا لگتی لگتے لگے ہوگا ہو گا ہوگی کون سا سی کس
""".split()
)

# Question words and general verbs: they matter a little (when/where/how much), less than topic words.
LIGHT = {
    "when",
    "where",
    "how",
    "kitna",
    "time",
    "day",
    "arrive",
    "much",
    "many",
    "long",
    "which",
    "accept",
    "check",
    "policy",
    "money",
    "number",
    "today",
    "big",
    "small",
    "visit",
    "after",
    "before",
    "available",
    "send",
    "until",
    "city",
}

# A word that says more than itself: a wallet is a way to pay.
IMPLIES = {"jazzcash": "payment", "easypaisa": "payment"}

# A message that reads as a complaint or a problem with an order never gets an automatic answer.
# Regular expressions over the normalised text (Latin lower case, Urdu letter variants unified).
COMPLAINT = [
    # English
    r"\bdamag\w*",
    r"\bbroken\b",
    r"\bbroke\b",
    r"\bcrack\w*",
    r"\btorn\b",
    r"\bleak\w*",
    r"\bscratch\w*",
    r"\bdefect\w*",
    r"\bfault\w*",
    r"\bfaulty\b",
    r"\bwrong\b",
    r"\bmissing\b",
    r"\bexpired\b",
    r"\bfake\b",
    r"\bfraud\w*",
    r"\bscam\w*",
    r"\bcheat\w*",
    r"\bworst\b",
    r"\bterrible\b",
    r"\bhorrible\b",
    r"\bpathetic\b",
    r"\bawful\b",
    r"\bdisgusting\b",
    r"\bangry\b",
    r"\bupset\b",
    r"\bdisappoint\w*",
    r"\bunacceptable\b",
    r"\bridiculous\b",
    r"\brude\w*",
    r"\bcomplain\w*",
    r"\bstill waiting\b",
    r"\bwaiting since\b",
    r"(?<!how )\blate\b",
    r"\bdelayed\b",
    r"\bdelay\b",
    r"\bnot (?:yet )?(?:received|arrived|delivered|"
    r"working|work|come|came|got|get|confirmed|refunded|returned|reached|fit)\b",
    r"\b(?:never|didn t|did not|haven t|have not|hasn t|has not|havent|hasnt|didnt|not|nt) "
    r"(?:\w+ )?(?:received|arrived|come|came|got|delivered|reached)\b",
    r"\bstopped working\b",
    r"\bdoesn t work\b",
    r"\bdoesnt work\b",
    r"\bnot working\b",
    r"\bcharged (?:me )?twice\b",
    r"\bovercharg\w*",
    r"\bdouble charg\w*",
    r"\bno (?:reply|response|answer)\b",
    r"\bpoor quality\b",
    r"\bbad (?:quality|service|experience|product)\b",
    r"\bwaste of\b",
    r"\b(?:got|was|been|is|has|have|are|were) cancel+ed\b",
    r"\bcancel+ed (?:my|our|it|without)\b",
    r"\bwhy\b",
    r"\bmy (?:refund|money)\b",
    r"\b(?:want|need|give|return) (?:me )?(?:my |a |the )?(?:refund|money)\b",
    r"\brefund (?:me|my|now|please|asap)\b",
    r"\bwhere is (?:my |the )?refund\b",
    r"\bwhen will i get my refund\b",
    r"\b(?:police|court|lawyer|consumer court)\b",
    r"\b(?:reject|refus|deni|denied|declin)\w*",
    r"\bno (?:refund|money|reply|response|answer|delivery|tracking)\b",
    r"\bi (?:have |had |already )?(?:returned|paid|sent|ordered|bought|received|placed)\b.*\b(?:but|still|not|no)\b",
    # Roman Urdu
    r"\btoo?t(?:a|i|e|ay|y|ne)?\b",
    r"\btut(?:a|i|e|ay)\b",
    r"\bphat\w*",
    r"\bkharab\w*",
    r"\bkhrab\w*",
    r"\bghal?at\w*",
    r"\bgalt\w*",
    r"\bglt\b",
    r"\bbekar\b",
    r"\bbakwas\b",
    r"\bghatia\b",
    r"\bghatiya\b",
    r"\bghateya\b",
    r"\bdhok\w*",
    r"\bshikay\w*",
    r"\bgus+a\b",
    r"\bnaraz\b",
    r"\bbatameez\w*",
    r"\bbadtameez\w*",
    r"\bbadtamiz\w*",
    r"\bdeer ho\b",
    r"\bder ho\b",
    r"\bdair ho\b",
    r"\bdeir\b",
    r"\bintezar\b",
    r"\bintizar\b",
    r"\bkyu+n?\b",
    r"\bkyo+n\b",
    r"\bkiu+n\b",
    r"\b(?:nahi|nahin|nai|nhi|ni|nahe) (?:\w+ )?(?:aya|aaya|ayi|aayi|aai|ai|aye|aaye|mila|mili|mile|"
    r"pohancha|pohncha|pohanchi|pahuncha|pahunchi|hua|hui|howa|hoa|chal|chalta|chalti|kar|karta|karti)\b",
    r"\babhi tak\b",
    r"\bab tak\b",
    r"\bkat gaye\b",
    r"\bkat gae\b",
    r"\bkaat\w*",
    r"\bcancel (?:ho gaya|ho gya|ho gayi|ho gai|kar diya|kr diya|kyun)\b",
    r"\b(?:mera|meri|mere|mujhe|muje|mjhe|hamara|hamari|hamein|humein) (?:\w+ )?(?:refund|paise|paisay|pese|"
    r"pesay|raqam|money)\b",
    r"\brefund (?:chahiye|chahye|chaheye|chaiye|chahie|do|dein|den|karo|kro|karen|karein|kar do|kar dein)\b",
    r"\b(?:paise|paisay|pese|pesay|raqam|money) (?:wapas|wapis|waapis) (?:karo|kro|karen|karein|kar do|kar dein|"
    r"do|dein|chahiye|chahye|chaiye)\b",
    r"\b(?:wapas|wapis) (?:karo|kro|kar do|kar dein) (?:mere|meri|mera)\b",
    r"\b(?:kiya|kia|ki|kiye|kie|bheja|bheji|bheje|di|diya|diye|liya|li|liye|mangwaya|mangwayi) (?:tha|thi|the|thay)\b",
    r"\bmana kar\w*",
    r"\binkar\b",
    # Urdu
    r"ٹوٹ",
    r"پھٹ",
    r"خراب",
    r"غلط",
    r"بیکار",
    r"بکواس",
    r"گھٹیا",
    r"دھوک",
    r"فراڈ",
    r"شکایت",
    r"غص",
    r"ناراض",
    r"بدتمیز",
    r"ابھی تک",
    r"اب تک",
    r"دیر",
    r"تاخیر",
    r"لیٹ",
    r"انتظار",
    r"کیوں",
    r"نہیں (?:\S+ )?(?:آیا|آئی|آئے|ملا|ملی|ملے|پہنچا|پہنچی|پہنچے|ہوا|ہوئی|چل|کر)",
    r"کٹ گئے",
    r"کٹ گیا",
    r"پولیس",
    r"عدالت",
    r"وکیل",
    r"انکار",
    r"مسترد",
    r"منع کر",
    r"(?:کیا|کی|کیے|بھیجا|بھیجی|دیا|دی|لیا|لی|منگوایا) (?:تھا|تھی|تھے)",
    r"(?:میرا|میری|میرے|مجھے|ہمارا|ہماری) (?:\S+ )?(?:ریفنڈ|پیسے|رقم)",
    r"ریفنڈ (?:چاہیے|چاہئے|دیں|دو|کریں|کرو)",
    r"(?:پیسے|رقم) واپس (?:کریں|کرو|کر دیں|دیں|دو)",
]

# The same, read in the message as written (before punctuation and emoji are dropped).
COMPLAINT_RAW = [r"[😡🤬😠👎💔😤]", r"!{2,}", r"\?{3,}"]

GREETINGS = set(
    """
hi hii hey heya hello helo hallo hllo hola salam salaam slam salaams aoa asalam assalam assalamu asalamu
asalamualaikum assalamualaikum salamualaikum alaikum alaykum alikum aleikum alekum walaikum wa o u
good morning afternoon evening day there all everyone team dear sir madam maam bhai ji jee g yaar
start ادب آداب السلام علیکم اسلام سلام ہیلو ہائے صبح بخیر شام
""".split()
)

PERSON = [
    r"\bagent\b",
    r"\bhuman\b",
    r"\b(?<!in )person\b",
    r"\breal person\b",
    r"\brepresentative\b",
    r"\boperator\b",
    r"\binsa+n\b",
    r"\bbande?\b se\b",
    r"\bbanday se\b",
    r"\bsomeone\b",
    r"\bsomebody\b",
    r"\banyone\b",
    r"\bstaff\b",
    r"\bmanager\b",
    r"\bnumainda\w*",
    r"\bnumaind\w*",
    r"\bnamaind\w*",
    r"\b(?:talk|speak|chat) (?:to|with)\b",
    r"\b(?:kisi|kisi aur|koi) (?:\w+ )?(?:se|sy) baat\b",
    r"\bbaat (?:karni|karwao|karao|krni|krwao|krao|karwaen|karwayen|karwa den|karwa dein)\b",
    r"ایجنٹ",
    r"انسان",
    r"نمائند",
    r"کسی سے بات",
    r"بندے سے بات",
    r"بات کروائ",
    r"بات کرنی",
    r"مینیجر",
]

MENU_WORDS = {"menu", "/menu", "مینو", "مینیو", "منو", "main menu", "options", "menu please", "مینو دکہائیں"}

YES = set(
    "yes y yeah yep yup ya han haan haa ha hn hnji haanji ji jee g ok okay k thanks thank thx shukriya "
    "shukria shukrya theek thik helpful helped sahi زبردست ہاں ہاں جی جی ٹہیک شکریہ درست".split()
)
NO = set("no n nope nah nahi nahin nai nhi ni na not نہیں نہ نا".split())
