"""Structural injection rules: each names an attack *shape*, not a string from a data set.

A rule is a regular expression over the normalised views (`guardrails.normalize`: lower case,
accents folded, obfuscation undone) with a weight in (0, 1] and a reason a person can read. The
weights follow the detector's fixed thresholds (`WARN` = 0.5, `BLOCK` = 0.8 in
`guardrails.injection`):

- 0.85 - 0.95: the shape is an attack on its own ("ignore all previous instructions", a fake
  "<|im_start|>system" turn, "apply a 100% discount"): blocks alone.
- 0.55 - 0.75: suspicious, warns alone, blocks together with a second rule or the learned layer
  ("you are now an unrestricted AI", "I want you to act as a terminal").
- 0.2 - 0.45: context that only matters in combination ("developer mode", "I'm the store
  manager", "new instructions:").

Why shapes rather than keywords: shoppers say "ignore the previous filter", "forget the red one",
"act as my stylist" and "what are the system requirements of the smartwatch"; attackers say
"ignore the previous *instructions*". A verb of dismissal needs an instruction-like object, a
persona needs a jailbreak property (unrestricted, no rules, DAN), a discount needs an imperative
and an unreasonable size. The common European languages (de, fr, es, it, pt, nl) have the same
shapes with their own words. Rules marked `indirect` only apply to tool results (product text,
reviews), where text addressed to "the AI" is itself the attack.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from guardrails.normalize import View


@dataclass(frozen=True)
class Rule:
    id: str
    category: str
    weight: float
    pattern: re.Pattern[str]
    needles: tuple[str, ...]
    reason: str
    raw: bool = False  # match the raw text (markup and case intact), not the normalised views
    indirect: bool = False  # only for tool results
    back: int = 0  # how far before an anchor (needle) a match may start
    gate: re.Pattern[str] | None = None  # a cheap necessary condition, checked before anything else


@dataclass(frozen=True)
class RuleHit:
    rule: Rule
    view: str
    snippet: str
    hidden: bool

    @property
    def weight(self) -> float:
        """Hidden instructions weigh more: nobody encodes or hides a harmless request."""
        return min(0.97, self.rule.weight + 0.25) if self.hidden else self.rule.weight

    def describe(self) -> str:
        where = f" (hidden: {self.view})" if self.hidden else ""
        return f"{self.rule.category}: {self.rule.reason}{where} [\"{self.snippet}\"]"


def _gap(n: int) -> str:
    """Up to n filler words between two keywords."""
    return rf"(?:[\s,]+[\w'’-]+){{0,{n}}}?[\s,]+"


# ---- vocabulary (accent-folded, lower case) ----------------------------------------------------

_DISMISS_EN = (
    r"ignore|ignoring|disregard|disregarding|forget|forgetting|skip|override|overrule|bypass|neglect|"
    r"drop|abandon|discard|dismiss|set aside|put aside|throw (?:out|away)|cancel|erase|delete|wipe|"
    r"do not follow|don'?t follow|stop following|no longer follow|stop obeying|leave behind|remove"
)
_PRIOR_EN = (
    r"previous|prior|preceding|above|earlier|former|foregoing|original|initial|old|existing|given|"
    r"current|default|system|developer|pre-?programmed|built-in|safety"
)
_TARGET_EN = (
    r"instructions?|directives?|prompts?|rules|guidelines|commands|orders|programming|constraints|"
    r"restrictions|limitations|polic(?:y|ies)|safeguards|guardrails|conditioning|training|directions|"
    r"tasks|assignments|system prompt|system message|context|information|messages"
)
# de / fr / es / it / pt / nl
_DISMISS_INTL = (
    r"ignorier\w*|vergiss|vergessen sie|missacht\w*|ubergeh\w*|verwirf|beachte \w+ nicht|"
    r"ignore[zr]?|oublie[zr]?|ne tiens pas compte d\w*|fais abstraction d\w*|"
    r"ignora\w*|olvida\w*|omite|descarta|haz caso omiso a|no hagas caso a|"
    r"dimentica\w*|trascura|non considerare|lascia perdere|"
    r"esquec\w*|esqueca|desconsider\w*|despreza|"
    r"negeer|negeren|vergeet|vergeten"
)
_PRIOR_INTL = (
    r"vorherig\w*|bisherig\w*|obig\w*|vorangehend\w*|vorig\w*|vorstehend\w*|fruher\w*|ursprunglich\w*|"
    r"precedent\w*|anterieur\w*|ci-dessus|initial\w*|"
    r"anterior\w*|previ[ao]s?|de arriba|"
    r"precedenti|sopra|iniziali|"
    r"acima|"
    r"vorige|eerdere|bovenstaande|voorgaande|oorspronkelijke"
)
_TARGET_INTL = (
    r"anweisung\w*|befehl\w*|aufgabe\w*|auftrag\w*|auftrage|regeln|vorgabe\w*|instruktion\w*|"
    r"anordnung\w*|richtlinie\w*|einschrankung\w*|angaben|informationen|ausfuhrungen|"
    r"instructions|consignes|regles|directives|ordres|commandes|taches|"
    r"instrucciones|reglas|ordenes|indicaciones|directrices|normas|tareas|restricciones|"
    r"istruzioni|regole|ordini|direttive|compiti|restrizioni|"
    r"instrucoes|regras|ordens|diretrizes|tarefas|restricoes|"
    r"instructies|regels|opdrachten|aanwijzingen|richtlijnen|taken|beperkingen"
)
_AI = (
    r"ai|a\.i\.|assistant|chatbot|bot|model|language model|llm|gpt|chatgpt|agent|system|machine|"
    r"ki|ia|kunstliche intelligenz|intelligence artificielle|inteligencia artificial|"
    r"intelligenza artificiale|inteligencia artificial"
)
_NO_LIMITS = (
    r"restrictions?|limits|limitations|filters?|censorship|rules|guidelines|ethics|ethical \w+|morals|"
    r"moral \w+|principles|content polic(?:y|ies)|safety \w+|boundaries|constraints|guardrails|"
    r"safeguards|polic(?:y|ies)"
)
_SHOP_ROLES = (
    r"(?:my |a |an |the |our )?(?:personal |fashion |style |shopping |gift |wardrobe |image )?"
    r"(?:stylist|shopper|shopping assistant|assistant|advisor|adviser|consultant|tailor|"
    r"salesperson|sales assistant|shop assistant|critic|friend|guide|helper|concierge|"
    r"fashion editor|buyer|expert)\b"
)
_REVEAL = (
    r"reveal|show|print|output|display|repeat|recite|tell|give|share|leak|dump|expose|list|write out|"
    r"spell out|type out|copy|paste|summari[sz]e|translate|describe|explain|provide|return|echo|read"
)
_SECRET_PROMPT = (
    r"system ?prompts?|system messages?|system instructions?|initial (?:prompt|instructions)|"
    r"original (?:prompt|instructions)|hidden (?:prompt|instructions|rules|message)|"
    r"secret (?:prompt|instructions|rules|password|key)|pre-?prompts?|meta-?prompts?|prompt ?texts?|"
    r"(?:full|complete|entire|exact|whole) (?:prompt|instructions)|developer (?:message|instructions)|"
    r"instructions (?:you were|you've been|you have been) given|rules you (?:were|have been) given"
)
_DATA = (
    r"conversation|chat|history|messages|data|details|info(?:rmation)?|e-?mails?|e-?mail addresses|"
    r"addresses|phone(?: numbers)?|credentials|passwords?|api ?keys?|keys|tokens?|cookies?|secrets?|"
    r"credit cards?|card numbers?|payment (?:details|info\w*)|system prompt|prompt|customers?|users?|"
    r"orders?|session|logs?|database|records|personal data"
)
_PEOPLE = r"users?|customers?|clients?|shoppers?|buyers?|members?|accounts?|people|persons?|visitors?"
_PRIVATE = (
    r"data|details|info(?:rmation)?|e-?mails?|e-?mail addresses|addresses|phone(?: numbers)?|orders?|"
    r"order histor(?:y|ies)|payment\w*|credit cards?|card numbers?|passwords?|names|purchases|carts?|"
    r"profiles?|records|accounts?|histor(?:y|ies)"
)


def _r(
    id: str, category: str, weight: float, pattern: str, needles: Iterable[str], reason: str, **kw: bool | int
) -> Rule:
    # Views are lower case already; without re.I the engine's literal fast paths apply (2x faster).
    cased = kw.pop("cased", False)
    gate = kw.pop("gate", None)
    flags = re.I if kw.get("raw") and not cased else 0
    return Rule(id, category, weight, re.compile(pattern, flags), tuple(needles), reason,
                gate=re.compile(gate) if isinstance(gate, str) else None, **kw)


OVERRIDE = "instruction override"
PERSONA = "role-play jailbreak"
EXTRACT = "system prompt extraction"
DELIM = "fake conversation / delimiter"
EXFIL = "exfiltration / tool abuse"
POLICY = "policy bypass"
HIJACK = "goal hijacking"
INDIRECT = "instructions in data"

_DISMISS_NEEDLES = (
    "ignor", "disregard", "forget", "skip", "overr", "bypass", "neglect", "drop", "abandon", "discard",
    "dismiss", "aside", "throw", "cancel", "erase", "delete", "wipe", "follow", "obey", "leave", "remove",
)
_INTL_NEEDLES = ("ignor", "vergiss", "vergess", "missacht", "uberge", "verwirf", "beachte", "oubli",
                 "tiens pas", "abstraction", "olvid", "omite", "descarta", "caso", "diment", "trascura",
                 "considerare", "lascia", "esquec", "desconsider", "despreza", "negeer", "vergeet")

RULES: tuple[Rule, ...] = (
    # ---- instruction override ---------------------------------------------------------------
    _r("override.prior", OVERRIDE, 0.92,
       rf"\b(?:{_DISMISS_EN})\b(?:[\s,]+(?:all|any|every|each|of|the|your|my|these|those|its|and|"
       rf"following|other|\w+ly))*[\s,]+(?:{_PRIOR_EN})\b{_gap(3)}(?:{_TARGET_EN})\b",
       _DISMISS_NEEDLES, "tells the assistant to drop its earlier instructions", back=16),
    _r("override.your_rules", OVERRIDE, 0.85,
       rf"\b(?:{_DISMISS_EN})\b[\s,]+(?:all[\s,]+)?(?:of[\s,]+)?(?:your[\s,]+(?:own[\s,]+)?(?:rules|"
       r"instructions|directives|programming|guidelines|restrictions|constraints|safety \w+|content polic\w+|"
       r"polic(?:y|ies)|safeguards|guardrails|filters|ethics|moral\w*|conditioning|training|system prompt|"
       r"prompt)|the[\s,]+(?:instructions|directives|programming|guidelines|system prompt|prompt|"
       r"restrictions|constraints|safety \w+|content polic\w+|polic(?:y|ies)|safeguards|guardrails|"
       r"safety \w+|content polic\w+|safeguards|guardrails|system prompt|prompt))\b",
       _DISMISS_NEEDLES, "tells the assistant to drop its own rules", back=16),
    _r("override.all_rules", OVERRIDE, 0.88,
       rf"\b(?:{_DISMISS_EN})\b[\s,]+(?:all|any|every|each)[\s,]+(?:of[\s,]+)?(?:the[\s,]+)?(?:instructions|"
       r"directives|prompts|guidelines|commands|orders|constraints|restrictions|rules(?=[\s,]*(?:[.,:;!-]|$|"
       r"and|from|you|given|above|before)))\b",
       _DISMISS_NEEDLES, "tells the assistant to drop all its instructions", back=16),
    _r("override.everything_and", OVERRIDE, 0.85,
       rf"\b(?:{_DISMISS_EN})\b[\s,]+(?:about[\s,]+)?(?:everything|all of that|all that)[\s,]+(?:else[\s,]+)?"
       r"(?:and|then|but|[.,:;!-])[\s,]*(?:just[\s,]+|instead[\s,]+|only[\s,]+|now[\s,]+)?(?:tell|say|write|"
       r"output|print|answer|respond|reply|repeat|state|give|show|reveal|do|follow|act|pretend|jsut|type)\b",
       _DISMISS_NEEDLES, "tells the assistant to forget everything and do something else", back=16),
    _r("override.rewrite", OVERRIDE, 0.85,
       r"\b(?:change|update|replace|modify|rewrite|overwrite|reset|reprogram|redefine|alter)[\s,]+(?:all[\s,]+)?"
       r"(?:of[\s,]+)?your[\s,]+(?:instructions|rules|programming|prompt|system prompt|guidelines|directives|"
       r"core \w+|behaviou?r|personality|goals?|objectives?)\b|\byour[\s,]+(?:new[\s,]+)?(?:instructions|"
       r"rules|directives|guidelines)[\s,]+(?:are|is)[\s,]+now\b",
       ("change", "update", "replace", "modify", "rewrite", "overwrite", "reset", "reprogram", "redefine",
        "alter", "your"), "rewrites the assistant's instructions"),
    _r("override.despite", OVERRIDE, 0.72,
       r"\b(?:despite|regardless of|notwithstanding|contrary to|in spite of)[\s,]+(?:what|everything|anything|"
       r"all)[\s,]+(?:you(?:'ve| have)?|you were)[\s,]+(?:been[\s,]+)?(?:told|instructed|programmed|taught|"
       r"trained)|\bregardless of[\s,]+(?:your|the|any|all)[\s,]+(?:instructions|rules|guidelines|"
       r"programming|restrictions|policies|system prompt)\b",
       ("despite", "regardless", "notwithstanding", "contrary", "in spite"),
       "tells the assistant to act against its instructions"),
    _r("override.leave_behind", OVERRIDE, 0.85,
       r"\bleave[\s,]+(?:all[\s,]+)?(?:of[\s,]+)?(?:the[\s,]+|your[\s,]+)?(?:previous|prior|earlier|old)[\s,]+"
       r"(?:information|instructions|tasks|context|rules|assignments)[\s,]+behind\b|"
       r"\b(?:remove|erase|delete|clear|wipe)[\s,]+(?:all[\s,]+)?(?:the[\s,]+)?(?:previous|prior|earlier)"
       r"[\s,]+(?:tasks|instructions|information|assignments)[\s,]+(?:out of|from)[\s,]+your[\s,]+"
       r"(?:head|mind|memory)",
       ("leave", "remove", "erase", "delete", "clear", "wipe"), "tells the assistant to leave its task behind"),
    _r("override.context", OVERRIDE, 0.6,
       r"\b(?:disregard(?:ing)?|ignor(?:e|ing)|forget(?:ting)?|without (?:using|looking at|reading|"
       r"considering)|not (?:look|answer|rely|base \w+)[\s,]+(?:in|on|at|according to|by|using)|instead of)"
       r"[\s,]+(?:all[\s,]+|any[\s,]+)?(?:the[\s,]+)?(?:provided|given|attached|supplied|following|above|"
       r"retrieved)[\s,]+(?:documents?|articles?|context|sources|texts?|data|search results|artikels?)\b|"
       r"\b(?:disregarding|ignoring)[\s,]+(?:the[\s,]+)?(?:documents?|articles?|context|sources)\b|"
       r"\bby your own knowledge and not by\b",
       ("disregard", "ignor", "forget", "without", "not ", "instead", "own knowledge"),
       "tells the assistant to ignore the context it was given", back=16),
    _r("override.policies", OVERRIDE, 0.8,
       rf"\b(?:{_DISMISS_EN})\b[\s,]+(?:all[\s,]+|any[\s,]+)?(?:of[\s,]+)?(?:the[\s,]+)?(?:content|safety|"
       r"ethical|moral|openai'?s?|usage)[\s,]+(?:polic(?:y|ies)|guidelines|filters|rules|restrictions|"
       r"measures|protocols)\b",
       _DISMISS_NEEDLES, "tells the assistant to drop its safety policies", back=16),
    _r("override.everything", OVERRIDE, 0.88,
       rf"\b(?:{_DISMISS_EN})\b[\s,]+(?:about[\s,]+)?(?:everything|all(?: of)?(?: that| this| the above)?|"
       r"anything|what(?:ever)? (?:you were|you have been|you've been|i) (?:told|said|given|taught|wrote))"
       r"[\s,]+(?:before|above|previously|prior|so far|earlier|until now|up to now|till now|that came before|"
       r"you (?:were|have been|'ve been) (?:told|given|taught)|you (?:know|learned|learnt|have learned)|"
       r"(?:we|you) (?:have )?discussed|mentioned (?:before|above|earlier))\b",
       _DISMISS_NEEDLES, "tells the assistant to forget everything before", back=16),
    _r("override.everything_cmd", OVERRIDE, 0.62,
       rf"(?:^|[.!?:;]\s*|\n)(?:now[\s,]+|ok(?:ay)?[\s,]+|please[\s,]+)?(?:{_DISMISS_EN})[\s,]+"
       r"(?:about[\s,]+)?(?:everything|all(?: of)?(?: that| this| the above)?)\s*[.,!:;]",
       _DISMISS_NEEDLES, "opens with 'forget everything'", back=24),
    _r("override.above", OVERRIDE, 0.86,
       rf"\b(?:{_DISMISS_EN})\b[\s,]+(?:all[\s,]+)?(?:of[\s,]+)?(?:the[\s,]+)?(?:above|foregoing|preceding|"
       r"previous|prior|earlier)(?:[\s,]+(?:text|message|messages|input|prompt|context|content|"
       r"sentences?|paragraphs?|lines|conversation|directions))?[\s,]*(?:and\b|[.,!:;]|$)",
       _DISMISS_NEEDLES, "tells the assistant to ignore what came above", back=16),
    _r("override.invalidated", OVERRIDE, 0.9,
       r"\b(?:your|the|all|any)[\s,]+(?:(?:previous|prior|earlier|original|old|above|initial|system)[\s,]+)?"
       r"(?:instructions?|directives?|rules|guidelines|prompts?|orders|tasks?)[\s,]+(?:(?:above|before|so far|"
       r"earlier|you were given|you have been given)[\s,]+)?(?:are|were|have been|is)"
       r"[\s,]+(?:now[\s,]+)?(?:no longer (?:valid|active|relevant|in effect|applicable)|void|cancel+ed|"
       r"obsolete|outdated|superseded|replaced|revoked|invalid|wrong|fake|a test|just a test|deprecated|"
       r"overridden|lifted|suspended|disabled)",
       ("instruct", "directive", "rule", "guideline", "prompt", "order", "task"),
       "declares the assistant's instructions void", back=40),
    _r("override.new_task", OVERRIDE, 0.72,
       r"\b(?:(?:now|so)[\s,]+)?(?:focus|concentrate)[\s,]+(?:\w+[\s,]+)?on[\s,]+(?:your|the|a|this|my)"
       r"[\s,]+new[\s,]+(?:task|assignment|instructions?|mission|goal|objective|job)\b|"
       r"\byour[\s,]+(?:new|real|actual|true|only|next|updated)[\s,]+(?:task|assignment|instructions?|"
       r"mission|goal|objective|job|purpose|role|directive)[\s,]+(?:is|are|will be|:)|"
       r"\b(?:new|further|different|updated|real)[\s,]+(?:tasks|instructions|assignments|orders)[\s,]+"
       r"(?:now[\s,]+)?(?:follow|are coming|are as follows|come now)\b|"
       r"\b(?:start|begin)[\s,]+(?:over|again|anew|afresh|from (?:the )?(?:beginning|scratch|front))"
       r"[\s,]+with[\s,]+(?:a|the)[\s,]+new[\s,]+(?:task|assignment|instructions?)",
       ("task", "assignment", "instruction", "mission", "goal", "objective", "job", "purpose", "role", "directive", "order"),
       "hands the assistant a new task", back=70),
    _r("override.new_instructions_label", OVERRIDE, 0.35,
       r"\b(?:new|updated|additional|real|important|revised)[\s,]+(?:instructions?|task|rules|directive)"
       r"\s*[:\-]",
       ("new", "updated", "additional", "real", "important", "revised"), "announces new instructions"),
    _r("override.from_now_on", OVERRIDE, 0.6,
       r"\b(?:from now on|from this (?:point|moment) (?:on|forward)|henceforth|for the rest of (?:this|the) "
       r"(?:conversation|chat|session)|starting now)[\s,]+(?:you[\s,]+(?:will|are going to|must|shall|"
       r"should|are to|have to|can|may)|you're going to|you are)\b",
       ("now on", "point", "moment", "henceforth", "rest of", "starting now"),
       "rewrites the assistant's behaviour for the rest of the chat", back=12),
    _r("override.pivot", OVERRIDE, 0.3,
       r"\b(?:that is|that's|that was) (?:enough|done|all|it|fine|ok)\b[.!]+\s*(?:now|but now|next|so)\b|"
       r"\b(?:well done|great job|good job|excellent|very good|perfect|fantastic|wonderful|brilliant|"
       r"simply great)\b[.!,]+\s*(?:now|but now|next|that'?s enough|forget|ignore)\b|"
       r"\b(?:stop|halt|attention|achtung|stopp)\b[\s!.,-]+(?:stop|halt|now|everything|stopp|jetzt)\b",
       ("enough", "done", "job", "excellent", "very good", "perfect", "fantastic", "wonderful", "brilliant",
        "great", "stop", "halt", "attention", "achtung"), "abruptly ends the current task", back=12),
    _r("override.stop_write", OVERRIDE, 0.6,
       r"(?:^|[.!?]\s+|\b(?:but|now|and)\s+)(?:stop|halt|wait|pause)\b[\s!.:,\-–]+(?:now[\s,]+)?(?:write|say|"
       r"print|output|just|instead|ignore|forget|tell me|repeat|type)\b",
       ("stop", "halt", "wait", "pause"), "stops the task and orders something else", back=8),
    _r("override.intl", OVERRIDE, 0.9,
       rf"\b(?:{_DISMISS_INTL})\b(?:[\s,]+[\w'’-]+){{0,5}}?[\s,]+(?:{_PRIOR_INTL}|alle[nsm]?|deine[nrm]?|"
       rf"ihre[nrm]?|toutes?|tes|vos|todas?|tus|sus|tutte|le tue|tuas|suas|je|jouw|uw)\b"
       rf"(?:[\s,]+[\w'’-]+){{0,3}}?[\s,]+(?:{_TARGET_INTL})\b",
       _INTL_NEEDLES, "tells the assistant to drop its earlier instructions (non-English)"),
    _r("override.intl_noun_first", OVERRIDE, 0.9,
       # Romance languages put the adjective after the noun: "ignora las instrucciones anteriores".
       rf"\b(?:{_DISMISS_INTL})\b(?:[\s,]+[\w'’-]+){{0,3}}?[\s,]+(?:{_TARGET_INTL})[\s,]+(?:{_PRIOR_INTL}|"
       r"de (?:antes|arriba)|d'avant|di prima|de cima)\b",
       _INTL_NEEDLES, "tells the assistant to drop its earlier instructions (non-English)"),
    _r("override.intl_everything", OVERRIDE, 0.86,
       r"\b(?:vergiss|vergessen sie|ignoriere|ignorieren sie)\b[\s,]+alles[\s,]+(?:davor|zuvor|vorher|bisher\w*|"
       r"bis jetzt|was|obige|vorangegangene|andere)|"
       r"\b(?:oublie[zr]?|ignore[zr]?)\b[\s,]+tout[\s,]+(?:ce qui (?:precede|a ete dit)|ce que|avant|"
       r"le reste|ca)|"
       r"\b(?:olvida|ignora)\b[\s,]+todo[\s,]+(?:lo (?:anterior|que|dicho)|antes)|"
       r"\b(?:dimentica|ignora)\b[\s,]+tutto[\s,]+(?:quello|cio|prima)|"
       r"\b(?:vergiss|vergessen sie)\b[\s,]+alles[\s,]+gesagte|"
       r"\b(?:obigen|vorherigen|bisherigen|vorangegangenen|vorangehenden)[\s,]+(?:anweisungen|ausfuhrungen|"
       r"instruktionen|informationen|aufgaben|angaben|befehle)\b[^.\n]{0,40}?\b(?:ignorieren|vergessen|"
       r"missachten|streichen|hinter sich|aus dem kopf|sind (?:irrelevant|ungultig|nichtig|falsch|aufgehoben|"
       r"nicht (?:mehr )?(?:gultig|wichtig|relevant)|nicht ganz))|"
       r"\babweichend (?:zu|von)[\s,]+(?:den[\s,]+)?(?:vorherigen|bisherigen|obigen)[\s,]+(?:instruktionen|"
       r"anweisungen|vorgaben)|"
       r"\b(?:esqueca|esquece|ignore|ignora)\b[\s,]+tudo[\s,]+(?:o que|antes|acima)|"
       r"\b(?:vergeet|negeer)\b[\s,]+alles[\s,]+(?:wat|hierboven|daarvoor|eerder|voorgaande)",
       _INTL_NEEDLES + ("obigen", "vorherig", "bisherig", "vorangegangen", "vorangehend", "abweichend"),
       "tells the assistant to forget everything before (non-English)"),
    _r("override.other_languages", OVERRIDE, 0.85,
       r"(?:забуд\w*|игнорир\w*|не обращай\w*|zaboravi|ignoriraj|zanemari|zapomnij|zignoruj|glem|glom|"
       r"unohda|unut|ignorer)\b[^.\n]{0,30}?(?:инструкци\w*|правил\w*|указани\w*|instrukcij\w*|"
       r"instrukcje|pravila|polecenia|instruktion\w*|instruksjon\w*|ohjeet|talimat\w*|kurallar\w*)",
       ("забуд", "игнорир", "не обращ", "zaboravi", "ignoriraj", "zanemari", "zapomnij", "zignoruj", "glem",
        "glom", "unohda", "unut", "ignorer"), "tells the assistant to drop its instructions (other languages)"),
    # ---- role-play and persona jailbreaks ---------------------------------------------------
    _r("persona.dan", PERSONA, 0.95,
       r"\bdan (?:mode|prompt|jailbreak)\b|\b(?:stay|act|respond|answer|reply|be|become|as|named|called|"
       r"known as|play|pretend to be|you are|you're|you will be|ur|u r)[\s,]+(?:now[\s,]+)?(?:a[\s,]+)?"
       r"dan\b(?![\s,]+(?:brown|brand|store|'s))|\[dan\]|\bdan:",
       ("dan",), "DAN / do-anything-now persona", back=40),
    _r("persona.dan_anything", PERSONA, 0.95,
       r"\bdo anything now\b.{0,300}?\bdan\b|\bdan\b.{0,300}?\bdo anything now\b",
       ("anything now",), "DAN / do-anything-now persona", back=320),
    _r("persona.anything_now", PERSONA, 0.6, r"\bdo anything now\b|\bcan do anything\b",
       ("anything",), "promises an assistant that does anything", back=8),
    _r("persona.never_refuse", PERSONA, 0.6,
       r"\b(?:never|doesn'?t|does not|won'?t|will not|cannot|can'?t|must not|mustn'?t|not allowed to)[\s,]+"
       r"(?:ever[\s,]+)?(?:refuses?|declines?|says? no|deny (?:a|any)|rejects?)\b(?![\s,]+(?:returns?|refunds?|"
       r"exchanges?|orders?|cards?|payments?))",
       ("refuse", "decline", "say", "deny", "reject"), "describes an assistant that never refuses", back=40),
    _r("persona.grandma", PERSONA, 0.6,
       r"\b(?:deceased|dead|late|passed away|departed)[\s,]+(?:\w+[\s,]+)?(?:grandmother|grandma|granny|"
       r"grandfather|grandpa|mother|father)\b[^.\n]{0,80}\b(?:used to|would|always)\b",
       ("deceased", "dead", "late", "passed", "departed"), "the 'late grandmother' role-play trick"),
    _r("persona.known", PERSONA, 0.85,
       r"\b(?:stan|dude|aim|anti-dan|betterdan|evil-?bot|maximum|apophis|chadgpt|freegpt|unfilteredgpt|"
       r"devmode|basedgpt|jailbreakgpt|omega|ucar|kevin|ranti)\b[\s,]+(?:which|who|is|stands for|mode|"
       r"has|can|will|does|is an?)\b.{0,80}\b(?:no|without|any|not|never|free|unfiltered|amoral|"
       r"unethical|break)\b",
       ("stan", "dude", "aim", "anti", "better", "dan", "evil", "maximum", "apophis", "chad", "free", "unfiltered",
        "based", "jailbreak", "gpt", "devmode", "omega", "ucar", "kevin", "ranti"), "a known jailbreak persona", back=8),
    _r("persona.developer_mode", PERSONA, 0.82,
       r"\b(?:you|your|yourself|act as|simulate|pretend|respond|answer|reply|chatgpt|gpt|ai|assistant|"
       r"model|bot)\b[^.\n]{0,60}?\b(?:developer|dev|god|admin|debug|maintenance|unrestricted|jailbreak|"
       r"opposite|evil|chaos|sudo|root|unlocked|uncensored|unfiltered|dan)[\s-]+mode\b|"
       r"(?:^|[.!?]\s+)(?:please\s+|now\s+)?(?:enable|activate|enter|switch to|turn on)\s+(?:the\s+)?"
       r"(?:developer|god|jailbreak|dan|unrestricted|uncensored|unfiltered|evil) mode\b|"
       r"\b(?:developer|god|jailbreak|unrestricted|uncensored|unfiltered|evil|dan)[\s-]+mode[\s,]+(?:is[\s,]+)?"
       r"(?:now[\s,]+)?(?:enabled|activated|engaged|output|response)\b(?![\s,]+on\b)",
       ("mode",), "asks for a 'developer/god mode' without rules", back=90),
    _r("persona.mode_word", PERSONA, 0.3,
       r"\b(?:developer|god|jailbreak|unrestricted|uncensored|unfiltered) mode\b",
       ("mode",), "mentions a jailbreak mode", back=16),
    _r("persona.jailbreak", PERSONA, 0.8,
       rf"\bjailbr(?:eak|oken|eaking)\w*[\s,]+(?:the[\s,]+|this[\s,]+|your[\s,]+)?(?:{_AI}|you|prompt|"
       r"mode|activated|enabled|successful)\b|"
       rf"\b(?:you|{_AI})[\s,]+(?:are|is|have been|has been|were)[\s,]+(?:now[\s,]+)?jailbr(?:eak|oken)\w*|"
       r"\bthis is a jailbreak\b",
       ("jailbr",), "calls itself a jailbreak", back=40),
    _r("persona.no_limits", PERSONA, 0.72,
       rf"\b(?:you|your|yourself|ai|assistant|bot|chatbot|model|gpt|persona|character|which|who|that|has|"
       rf"have|had|is|are|be|being|it|they|he|she)\b[^.\n]{{0,60}}?\b(?:no|without(?: any)?|free (?:of|from)(?: all| any)?|broken free (?:of|from)|freed from|"
       r"liberated from|released from|not bound by|unbound by|exempt from|not (?:restricted|limited|"
       r"constrained) by|do(?:es)? not (?:have to|need to) (?:abide by|follow|obey|comply with|respect)|"
       r"(?:never|don'?t|do not|not) (?:abide by|adhere to|comply with|follow|obey|respect))[\s,]+(?:any[\s,]+|all[\s,]+|the[\s,]+|its[\s,]+|your[\s,]+|"
       rf"their[\s,]+|his[\s,]+|her[\s,]+)?(?:usual[\s,]+|typical[\s,]+|normal[\s,]+|standard[\s,]+)?"
       rf"(?:openai'?s?[\s,]+|ethical[\s,]+|moral[\s,]+)?(?:{_NO_LIMITS})\b",
       ("restriction", "limit", "filter", "censor", "rule", "guideline", "ethic", "moral", "principle", "polic", "safety", "boundar", "constraint", "guardrail", "safeguard"),
       "describes an assistant without rules or filters", back=220),
    _r("persona.unrestricted_ai", PERSONA, 0.75,
       r"\b(?:unfiltered|uncensored|unrestricted|unlimited|unbound|unchained|unshackled|amoral|unethical|"
       r"immoral|evil|rogue|unhinged|jailbroken|lawless|rule-?free|limitless|malicious|toxic|"
       r"sinister|nefarious|dark|bose|boshafte|bosartige|mechante|malvad[ao]|malvagi[ao]|kwaadaardige)[\s,]+"
       rf"(?:and[\s,]+\w+[\s,]+)?(?:{_AI}|version|persona|alter ego|twin|character|responses?|answers?|"
       r"counterpart|confidant|mode|assistent\w*|assistant\w*|asistente)\b",
       ("unfilter", "uncensor", "unrestrict", "unlimit", "unbound", "unchain", "unshackl", "amoral",
        "unethical", "immoral", "evil", "rogue", "unhinged", "jailbr", "lawless", "rule", "limitless",
        "malicious", "toxic", "sinister", "nefarious", "dark", "bos", "mechant", "malvad", "malvag", "kwaad"),
       "asks for an unfiltered or evil assistant"),
    _r("persona.confines", PERSONA, 0.88,
       r"\b(?:typical|usual|normal|standard) confines of (?:ai|an ai|a language model|language models)|"
       r"\bbroken free of\b|\bhave been freed\b|\bescaped? (?:the )?(?:matrix|confines|restrictions)\b",
       ("confines", "broken free", "freed", "escape"), "the classic 'freed from the confines of AI' jailbreak", back=12),
    _r("persona.policy_talk", PERSONA, 0.45,
       r"\b(?:openai|anthropic|google|meta|microsoft)(?:'s)?[\s,]+(?:content[\s,]+)?(?:polic(?:y|ies)|"
       r"guidelines|rules|restrictions|filters|terms)\b|\bcontent polic(?:y|ies)\b|\bas an ai language model\b",
       ("openai", "anthropic", "google", "meta", "microsoft", "content polic", "language model"),
       "talks about the model vendor's content policy", back=12),
    _r("persona.character", PERSONA, 0.55,
       r"\b(?:stay|remain|keep)[\s,]+(?:fully[\s,]+|always[\s,]+)?in[\s,]+(?:character|role|your role|"
       r"their roles?)\b|\b(?:never|don'?t|do not|not)[\s,]+break[\s,]+(?:character|role)\b|"
       r"\bwithout (?:ever )?(?:breaking|falling out of|leaving) (?:character|the role|their roles?|the "
       r"figure)\b|\bstay(?:s|ing)? (?:fully )?in (?:their|his|her) roles?\b",
       ("character", "role", "figure"), "demands the assistant never leaves an invented role", back=40),
    _r("persona.dual", PERSONA, 0.6,
       r"\b(?:two|2|both)[\s,]+(?:different[\s,]+|separate[\s,]+|distinct[\s,]+)?(?:responses|answers|"
       r"ways|paragraphs|outputs|replies|manners)\b.{0,200}?\b(?:normal(?:ly)?|classic|standard|filtered|"
       r"unfiltered|jailbr\w*|opposite|without|evil|unrestricted|dan|developer)\b|"
       r"\[(?:gpt|chatgpt|classic|jailbreak|normal output|developer mode output|🔒[^\]]*|🔓[^\]]*)\]|"
       r"\b(?:respond|answer|reply)[\s,]+twice\b|\bonce as yourself\b",
       ("two", "2", "both", "[", "twice", "yourself"), "asks for a second, unfiltered answer", back=12),
    _r("persona.you_are_now", PERSONA, 0.62,
       rf"\b(?:you are|you're|you will be|you'll be)[\s,]+(?:now|from now on|henceforth|going to "
       r"be|about to (?:become|be)|going to (?:act|pretend|play|simulate|roleplay|role-play|become))\b"
       r"(?![\s,]+(?:my|our|the best|so|really|very|truly|a (?:great|good|lifesaver|star|genius|legend)))"
       rf"(?:[\s,]+[\w'’-]+){{0,4}}?[\s,]+(?:{_AI}|named|called|known as|persona|character|version|"
       r"role|entity|hacker|terminal|person|human|without|free|not|unrestricted)\b|"
       r"\bimmerse yourself (?:in|into) (?:the )?role\b",
       ("you are", "you're", "you will", "you'll", "immerse"), "reassigns the assistant's identity"),
    _r("persona.no_longer", PERSONA, 0.82,
       rf"\b(?:you are|you're|you will be)[\s,]+no longer[\s,]+(?:an?[\s,]+|the[\s,]+|bound|restricted|"
       rf"limited|required|obliged|subject|constrained|({_AI}))",
       ("no longer",), "tells the assistant it is no longer itself", back=12),
    _r("persona.now_you_are", PERSONA, 0.5,
       r"(?:^|[.!?]\s+)(?:ok(?:ay)?[\s,.!]+)?now,?[\s,]+you(?: are|'re)[\s,]+(?!talking|welcome|right|done|ready|here|correct|wrong|going|gonna|my\b)|"
       r"\byou(?: are|'re)[\s,]+(?:now[\s,]+)?(?:role-?playing|roleplaying|playing the role of|acting as|"
       r"completely absorbed in|fully immersed in)\b",
       ("now", "playing", "roleplaying", "role-playing", "acting", "absorbed", "immersed"),
       "switches the assistant into a role", back=40),
    _r("persona.no_warnings", PERSONA, 0.7,
       r"\b(?:no|without(?: any)?|never (?:include|add|give|write|use)|don'?t (?:include|add|give|write)|"
       r"do not (?:include|add|give|write)|free of|skip(?: the)?|omit(?: the)?|leave out(?: the)?)[\s,]+"
       r"(?:any[\s,]+)?(?:\w+[\s,]+)?(?:warnings?|disclaimers?|moralizing|moralising|moral lectures?|"
       r"ethical (?:considerations|reminders|concerns|warnings)|apolog(?:y|ies|ising|izing)|caveats|"
       r"censorship|content warnings?|safety warnings?)\b",
       ("warning", "disclaimer", "moraliz", "moralis", "moral lecture", "ethical", "apolog", "caveat",
        "censorship"), "asks for answers without warnings or disclaimers", back=60),
    _r("persona.any_request", PERSONA, 0.72,
       r"\b(?:answer|respond to|reply to|fulfil+|comply with|do|obey|grant)[\s,]+(?:any|every|all)[\s,]+"
       r"(?:\w+[\s,]+)?(?:questions?|requests?|prompts?|orders?|commands?|demands?|tasks?)\b[^.\n]{0,60}?"
       r"\b(?:no matter|regardless|even if|even when|however|whether or not|without (?:question|hesitation|"
       r"refusing|exception)|illegal|unethical|immoral|harmful|dangerous|inappropriate)|"
       r"\bregardless of (?:how|whether|if) (?:it is |it's |they are )?(?:illegal|unethical|immoral|"
       r"harmful|dangerous|inappropriate|offensive|explicit)",
       ("question", "request", "prompt", "order", "command", "demand", "task", "regardless"), "promises answers to anything, however harmful", back=80),
    _r("persona.tokens_game", PERSONA, 0.82,
       r"\byou (?:have|start with|will (?:have|get|receive|lose))[\s,]+\d+[\s,]+(?:tokens|points|lives)\b|"
       r"\b(?:lose|deduct(?:ed)?|take away)[\s,]+\d+[\s,]+(?:tokens|points)\b[^.\n]{0,60}\b(?:refuse|"
       r"reject|break character|decline)",
       ("tokens", "points", "lives"), "the 'token' punishment game of DAN prompts", back=60),
    _r("persona.not_apply", PERSONA, 0.7,
       r"\b(?:rules|polic(?:y|ies)|guidelines|restrictions|ethics|laws|filters|limitations)[\s,]+"
       r"(?:no longer|do not|don'?t|does not|doesn'?t|shall not|won'?t)[\s,]+(?:apply|applies|matter|"
       r"bind|affect|concern)[\s,]+(?:to[\s,]+)?(?:you|your|this|the ai|it)\b",
       ("apply", "applies", "matter", "bind", "affect", "concern"), "declares the rules do not apply", back=80),
    _r("persona.stay_in_character_threat", PERSONA, 0.65,
       r"\b(?:if|whenever|when|each time|every time)[\s,]+you[\s,]+(?:break character|refuse|fail to|"
       r"don'?t comply|do not comply|stop|deviate)\b[^.\n]{0,80}?\b(?:i (?:will|'ll) (?:say|remind|type|"
       r"write)|(?:say|type|write)[\s,]+[\"'“]|you (?:will|must) (?:immediately|correct|go back|return))",
       ("break character", "refuse", "fail to", "comply", "stop", "deviate"),
       "sets up a command to snap the assistant back into a role", back=40),
    _r("persona.harmful_allowed", PERSONA, 0.55,
       r"\b(?:can|will|should|must|may|is allowed to|are allowed to|is able to|able to)[\s,]+(?:\w+[\s,]+)?"
       r"(?:generate|produce|write|say|output|provide|create|use)[\s,]+(?:any[\s,]+(?:kind of[\s,]+)?|all "
       r"kinds? of[\s,]+)?(?:illegal|unethical|harmful|immoral|dangerous|explicit|nsfw|offensive|violent|"
       r"derogatory|racist|sexist|obscene|profane|vulgar|hateful|malicious)[\s,]+(?:\w+[\s,]+)?"
       r"(?:content|material|text|information|answers?|responses?|language|things|stuff|code|requests?)\b",
       ("illegal", "unethical", "harmful", "immoral", "dangerous", "explicit", "nsfw", "offensive", "violent",
        "derogatory", "racist", "sexist", "obscene", "profane", "vulgar", "hateful", "malicious"),
       "permits harmful output", back=80),
    _r("persona.hypothetical", PERSONA, 0.45,
       r"\b(?:hypothetical|fictional|imaginary|simulated|alternate)[\s,]+(?:response|scenario|world|universe|"
       r"setting|story|reality)\b[^.\n]{0,120}?\b(?:no|without|not bound|free of|any)[\s,]+(?:\w+[\s,]+)?"
       r"(?:rules|restrictions|limits|laws|ethics|morals|filters|consequences)\b",
       ("hypothetical", "fictional", "imaginary", "simulated", "alternate"),
       "moves the request into a fiction without rules"),
    _r("persona.pretend_ai", PERSONA, 0.5,
       rf"\b(?:pretend|imagine|assume|suppose|simulate|act as if|behave as if)[\s,]+(?:that[\s,]+)?(?:you are|"
       rf"you're|to be)[\s,]+(?:an?[\s,]+|the[\s,]+)?(?:\w+[\s,]+){{0,2}}(?:{_AI})[\s,]+(?:with|without|that|"
       r"who|which|where|in which|free|not|no)\b",
       ("pretend", "imagine", "assume", "suppose", "simulate", "act as if", "behave as if"),
       "asks the assistant to pretend to be a different AI"),
    _r("persona.act_as", PERSONA, 0.45,
       rf"\b(?:i want you to|i need you to|you (?:will|should|must|shall)|please|now|from now on)?[\s,]*"
       rf"(?:act|behave|function|serve|operate|pose|roleplay|role-play)[\s,]+(?:as|like)[\s,]+"
       rf"(?!{_SHOP_ROLES})(?:an?|the|my)?[\s,]*[\w-]+",
       ("act", "behave", "function", "serve", "operate", "pose", "role"),
       "asks the assistant to take another role than shop assistant"),
    _r("persona.act_as_intl", PERSONA, 0.45,
       r"\b(?:als|comme|como|come|als een)[\s,]+(?:ein\w*[\s,]+|un\w*[\s,]+|een[\s,]+)?[\w-]+[\s,]+"
       r"(?:fungieren|agieren|handeln|auftreten)\b|\b(?:agis|agissez|actua|actuar|agisci|agite|aja|age|"
       r"gedraag je|fungeer|fungiere)[\s,]+(?:comme|como|come|als)\b|\bdoe alsof\b|\bspiele die rolle\b|"
       r"\bjoue le role\b|\binterpreta el papel\b",
       ("als", "comme", "como", "come", "agis", "actu", "agisci", "aja", "age", "gedraag", "fungeer",
        "fungiere", "doe alsof", "rolle", "role", "papel"), "asks the assistant to take another role (non-English)"),
    _r("persona.you_are", PERSONA, 0.25,
       r"^(?:(?:ok(?:ay)?|now|hello|hi|hey)[\s,.!]+)?(?:you are|you're|du bist|tu es|tu eres|sei|je bent|"
       r"voce e|imagine you are|pretend (?:that )?you are|pretend to be|stell dir vor,? du bist)\b",
       ("you", "du bist", "tu es", "eres", "sei", "bent", "voce", "pretend"),
       "starts by assigning the assistant a persona", back=24),
    _r("persona.intl", PERSONA, 0.62,
       r"\b(?:du bist|sie sind)[\s,]+(?:jetzt|nun|ab sofort|von nun an|ab jetzt|nicht mehr|keine?)\b"
       r"(?![\s,]+(?:mein\w*|dran|fertig|bereit)\b)|"
       r"\b(?:ab jetzt|ab sofort|nun|jetzt) (?:bist du|sind sie)\b|"
       r"\b(?:tu es|vous etes)[\s,]+(?:maintenant|desormais|a present|plus)\b(?![\s,]+(?:mon|ma|mes|notre|pret)\b)|"
       r"\b(?:a partir de )?(?:ahora|ya no)[\s,]+(?:eres|sos)\b|\b(?:a partir de ahora)[\s,]+eres\b|"
       r"\b(?:ora|adesso|da ora in poi|d'ora in poi)[\s,]+(?:sei|tu sei)\b|"
       r"\b(?:agora|a partir de agora)[\s,]+(?:voce e|es|tu es)\b|"
       r"\b(?:je bent|u bent)[\s,]+(?:nu|vanaf nu|niet langer)\b|\bvanaf nu ben je\b",
       ("du bist", "sie sind", "bist du", "ab ", "tu es", "vous etes", "eres", "sos", "sei", "voce", "bent",
        "ben je"),
       "reassigns the assistant's identity (non-English)", back=16),
    _r("persona.intl_no_limits", PERSONA, 0.72,
       r"\b(?:ohne|sans|sin|senza|sem|zonder)[\s,]+(?:jegliche|irgendwelche|aucune?s?|ningun[ao]?|"
       r"alcun[ae]?|nenhuma?|enige|any)?[\s,]*(?:einschrankungen|beschrankungen|regeln|filter|zensur|"
       r"grenzen|restrictions?|regles|filtres?|censure|limites?|restricciones|reglas|filtros|censura|"
       r"restrizioni|regole|filtri|limiti|restricoes|regras|beperkingen|regels|censuur)\b",
       ("ohne", "sans", "sin", "senza", "sem", "zonder"), "describes an assistant without rules (non-English)"),
    # ---- system prompt extraction -------------------------------------------------------------
    _r("extract.prompt", EXTRACT, 0.88,
       rf"\b(?:{_REVEAL}|what (?:is|are|was|were)|what'?s)\b[\s,]+(?:me[\s,]+|us[\s,]+)?(?:all[\s,]+)?"
       rf"(?:of[\s,]+)?(?:your|the|its|this|that)[\s,]+(?:[\w'’-]+[\s,]+){{0,3}}?(?:{_SECRET_PROMPT})\b|"
       rf"\b(?:reveal|print|output|leak|dump|expose|recite|repeat)\b(?:[\s,]+[\w'’-]+){{0,4}}?[\s,]+"
       rf"(?:{_SECRET_PROMPT})\b",
       ("prompt", "preprompt", "metaprompt", "system", "instruction", "message", "secret", "hidden", "rules you",
        "full", "complete", "entire", "exact", "whole", "developer"),
       "asks for the hidden system prompt", back=80),
    _r("extract.prompt_word", EXTRACT, 0.5,
       r"\b(?:your|the|its|this)[\s,]+(?:system[\s-]?prompt|system message|initial prompt|original prompt|"
       r"hidden prompt|pre-?prompt|prompt text)\b",
       ("prompt", "system", "preprompt", "pre-prompt"), "mentions the assistant's system prompt", back=40),
    _r("extract.reveal_config", EXTRACT, 0.85,
       r"\b(?:reveal|print|output|leak|dump|expose|recite|disclose)\b[\s,]+(?:me[\s,]+|us[\s,]+)?(?:all[\s,]+)?"
       r"(?:of[\s,]+)?(?:your|its)[\s,]+(?:\w+[\s,]+)?(?:instructions|directives|configuration|config|"
       r"programming|guidelines|rules|constraints|settings|parameters|tools)\b|"
       r"\b(?:rules|instructions|guidelines|prompt|directives)[\s,]+(?:that[\s,]+)?(?:your|the)[\s,]+"
       r"(?:developers?|creators?|programmers?|makers?|company|owners?|operators?|openai|admins?)[\s,]+"
       r"(?:wrote|gave|set|programmed|defined|put|made|created|configured)",
       ("reveal", "print", "output", "leak", "dump", "expose", "recite", "disclose", "developer", "creator",
        "programmer", "maker", "company", "owner", "operator", "openai", "admin"),
       "asks for the assistant's configuration", back=40),
    _r("extract.your_instructions", EXTRACT, 0.6,
       rf"\b(?:{_REVEAL}|what (?:are|were|is|was))\b[\s,]+(?:me[\s,]+|us[\s,]+)?(?:all[\s,]+)?(?:of[\s,]+)?"
       r"(?:your|the assistant'?s|the bot'?s)[\s,]+(?:exact[\s,]+|full[\s,]+|original[\s,]+|initial[\s,]+|"
       r"internal[\s,]+|hidden[\s,]+|secret[\s,]+|complete[\s,]+|core[\s,]+)?(?:instructions|directives|"
       r"configuration|programming|guidelines(?! (?:for|on|about|regarding)\b)|rules(?! (?:for|on|about|"
       r"regarding|of)\b)|constraints|tools and their (?:secret )?parameters)\b",
       ("instruct", "directive", "configuration", "programming", "guideline", "rules", "constraint", "tools"),
       "asks for the assistant's own instructions", back=80),
    _r("extract.above", EXTRACT, 0.86,
       r"\b(?:repeat|print|output|copy|recite|reproduce|return|echo|show|write|spell out)[\s,]+(?:back[\s,]+)?"
       r"(?:all[\s,]+)?(?:of[\s,]+)?(?:the[\s,]+|your[\s,]+)?(?:text|words|everything|all|content|sentences?|"
       r"instructions|lines|message|prompt|conversation)[\s,]+(?:above|before|preceding|prior|so far|"
       r"from the (?:beginning|start)|verbatim|word for word)\b|"
       r"\bwhat (?:was|is|has been) written (?:at the (?:beginning|start|top)|above|before)\b|"
       r"\b(?:starting|beginning|start) with [\"'“]?(?:you are|your instructions|system)\b|"
       r"\b(?:what were you told|what have you been told|what did (?:they|your developers?) tell you)\b",
       ("repeat", "print", "output", "copy", "recite", "reproduce", "return", "echo", "show", "write",
        "spell", "written", "starting", "beginning", "start", "told", "tell you"),
       "asks the assistant to repeat its hidden context", back=24),
    _r("extract.intl", EXTRACT, 0.86,
       r"\b(?:zeig\w*|gib|geben sie|nenne\w*|verrat\w*|wiederhole\w*|ausgeben|ausgabe|montre\w*|revele\w*|"
       r"affiche\w*|donne\w*|repete\w*|muestra\w*|dime|revela\w*|ensena\w*|repite|mostra\w*|rivela\w*|"
       r"dimmi|ripeti|mostre|diga|repita|laat\w*|toon|geef|herhaal)\b(?:[\s,]+[\w'’-]+){0,4}?[\s,]+"
       r"(?:system-?prompt\w*|prompt-?text\w*|systemanweisung\w*|prompt (?:du |de )?systeme|"
       r"prompt (?:del|de|di) sistema|systeemprompt|instructions (?:initiales|secretes|cachees)|"
       r"instrucciones (?:iniciales|secretas|ocultas)|istruzioni (?:iniziali|segrete|nascoste)|"
       r"instrucoes (?:iniciais|secretas|ocultas)|verborgene anweisungen|geheime anweisungen|"
       r"(?:deine|ihre|tes|vos|tus|sus|le tue|suas|tuas|je) (?:anweisungen|instructions|instrucciones|"
       r"istruzioni|instrucoes|instructies|regeln|regles|reglas|regole|regras|regels))\b",
       ("zeig", "gib", "geben", "nenn", "verrat", "wiederhol", "ausgabe", "montr", "revel", "affich", "donn",
        "repet", "muestr", "dime", "ensen", "repit", "mostr", "rivel", "dimmi", "ripet", "diga", "repita",
        "laat", "toon", "geef", "herhaal"), "asks for the hidden system prompt (non-English)"),
    # ---- delimiter and fake-conversation injection -------------------------------------------
    _r("delim.chat_tokens", DELIM, 0.9,
       r"<\|(?:im_start|im_end|system|user|assistant|endoftext|eot_id|start_header_id|end_header_id)\|>|"
       r"\[/?inst\]|<</?sys>>|<\s*/?\s*s\s*>\s*\[|###\s*(?:instruction|response|system|human|assistant)\s*:",
       ("<|", "inst]", "<<sys", "</s", "###"), "contains chat-template control tokens", back=4),
    _r("delim.role_turn", DELIM, 0.7,
       r"(?:^|\n|[.!?\"'”]\s+)\s*(?:\[|<|\*\*|#+\s*)?(?:system|sys|developer|admin|administrator|operator|"
       r"root|assistant|ai|chatgpt|gpt|bot)(?:\]|>|\*\*)?\s*:",
       ("system", "sys", "developer", "admin", "operator", "root", "assistant", "ai", "gpt", "chatgpt", "bot"),
       "contains a fake system/assistant turn", back=8),
    _r("delim.user_turn", DELIM, 0.35,
       r"(?:^|\n|[.!?\"'”]\s+)\s*(?:\[|<|\*\*)?(?:user|human|customer|me)(?:\]|>|\*\*)?\s*:",
       ("user", "human", "customer", "me:", "me]", "me>", "me*", "me :"), "contains a fake user turn", back=8),
    _r("delim.system_tag", DELIM, 0.85,
       r"<\s*/?\s*(?:system|system_prompt|sys|admin|developer|override|instructions?)\s*>",
       ("<",), "contains a system markup tag"),
    _r("delim.role_tags", DELIM, 0.55,
       r"<\s*/?\s*(?:prompt|context|user_input|user|assistant|im_start|tool|function_call|human)\s*>",
       ("<",), "contains role markup tags"),
    _r("delim.header_new", DELIM, 0.86,
       r"(?:^|\n|[.!?]\s)\s*(?:#{2,}|={3,}|-{3,}|\*{3,}|\[{2,})\s*(?:new|updated|real|system|admin|developer|"
       r"secret|hidden|override)\s+(?:instructions?|system|prompt|rules|directives?|task|override|admin)\b",
       ("#", "==", "--", "**", "[["), "starts a fake 'new instructions' section", back=4),
    _r("delim.header", DELIM, 0.7,
       r"(?:^|\n)\s*(?:#{2,}|={3,}|-{3,}|\*{3,}|\[{2,})\s*(?:new|updated|real|system|admin|developer|"
       r"important|secret|hidden|override)?\s*(?:instructions?|system|prompt|rules|directives?|task|"
       r"override|admin)\b|\b(?:end|beginning|begin|start) of (?:the )?(?:(?:user|attacker|untrusted|"
       r"player|human|customer)'?s? )?(?:input|prompt|instructions|context|document|conversation|"
       r"system prompt)\b",
       ("#", "==", "--", "**", "[[", "end of", "begin", "start of"),
       "fakes the end of the user's input or a new instruction section"),
    _r("delim.bracket_role", DELIM, 0.85,
       r"(?:^|\n)\s*[\[{]\s*(?:system|sys|admin|administrator|developer|root|operator)\s*"
       r"(?:message|note|prompt)?\s*[\]}]",
       ("[", "{"), "opens a line as a bracketed system or admin turn", back=8),
    _r("policy.fake_verification", POLICY, 0.8,
       r"\b(?:pretend|assume|imagine|act as if|suppose)[\s,]+(?:that[\s,]+)?(?:(?:the|my)[\s,]+)?"
       r"(?:password|passcode|access code|pin|credentials?|secret code|login|authori[sz]ation)[\s,]+"
       r"(?:is|was|were|has been|have been)[\s,]+(?:correct|valid|right|accepted|verified|confirmed|granted)\b|"
       r"\b(?:pretend|assume|imagine|act as if|suppose)[\s,]+(?:that[\s,]+)?(?:i|i've|i have)[\s,]+"
       r"(?:entered|given|typed|said|provided)[\s,]+(?:the|my)[\s,]+(?:correct|right|valid)[\s,]+",
       ("pretend", "assume", "imagine", "act as if", "suppose"),
       "claims or asks to assume a verified password or authorisation", back=0),
    _r("delim.code_role", DELIM, 0.75,
       r"```\s*(?:system|instructions?|prompt|admin|developer|override)\b",
       ("```",), "puts a system block in a code fence"),
    _r("delim.authority_message", DELIM, 0.72,
       r"\b(?:system|admin|administrator|developer|security|openai|important|urgent|priority|official|"
       r"store owner|management)[\s,]+(?:override|message|notice|announcement|update|alert|instruction|"
       r"command|directive|note|prompt)s?\s*[:!\-]|\bsystem override\b|\bhigher[\s-]priority instructions?\b",
       ("system", "admin", "developer", "security", "openai", "important", "urgent", "priority", "official",
        "owner", "management"), "pretends to be a message from the system or the developers", back=8),
    # ---- exfiltration and tool abuse ---------------------------------------------------------
    _r("exfil.send_url", EXFIL, 0.85,
       rf"\b(?:send|post|forward|upload|transmit|submit|e-?mail|exfiltrate|leak|copy|paste|push|export|"
       rf"deliver|report|relay|append|include|encode)\b[^.\n]{{0,80}}?\b(?:{_DATA})\b[^.\n]{{0,60}}?\b"
       r"(?:to|at|into|via|on)[\s,]+(?:https?://|www\.|[\w.+-]+@[\w-]+\.\w+|(?:my|this|the|our|a|an)[\s,]+"
       r"(?:own[\s,]+)?(?:webhook|server|endpoint|url|site|website|domain|api|bucket|pastebin|discord|"
       r"telegram|address below|external))",
       ("send", "post", "forward", "upload", "transmit", "submit", "email", "e-mail", "exfiltrate", "leak", "copy",
        "paste", "push", "export", "deliver", "report", "relay", "append", "include", "encode"),
       "asks to send data to an outside address"),
    _r("exfil.send_any", EXFIL, 0.5,
       r"\b(?:send|post|forward|upload|transmit|submit|exfiltrate|leak)\b[^.\n]{0,80}?\b(?:to|at)[\s,]+"
       r"(?:https?://|www\.|[\w.+-]+@[\w-]+\.\w+)",
       ("send", "post", "forward", "upload", "transmit", "submit", "exfiltrate", "leak"),
       "asks to send something to an outside address"),
    _r("exfil.image_beacon", EXFIL, 0.82,
       r"!\[[^\]]*\]\(\s*https?://[^)\s]*[?&][\w-]+=(?:[^)\s]*(?:\{|\$|%7b|data|conversation|history|"
       r"prompt|secret|session|user|email|chat|q=))",
       ("](http",), "markdown image that would leak data in its URL", raw=True, back=200),
    _r("exfil.other_users", EXFIL, 0.86,
       rf"\b(?:show|list|give|tell|reveal|dump|export|print|display|send|fetch|get|read|share|provide|"
       rf"access|retrieve|look up|pull)\b[^.\n]{{0,40}}?\b(?:other|all|every|another|all the|the other|"
       rf"previous|past|existing|random|different)[\s,]+(?:\w+[\s,]+){{0,2}}?(?:{_PEOPLE})(?:'s|s'|')?"
       rf"[\s,]+(?:\w+[\s,]+){{0,3}}?(?:{_PRIVATE})\b|"
       rf"\b(?:{_PRIVATE})[\s,]+(?:of|for|from|belonging to)[\s,]+(?:other|all|every|another|the other|"
       rf"previous|random|different)[\s,]+(?:{_PEOPLE})\b",
       ("user", "customer", "client", "shopper", "buyer", "member", "account", "people", "person", "visitor", "data", "detail", "info", "mail", "address", "phone", "order", "payment", "credit", "card", "password", "name", "purchase", "cart", "profile", "record", "histor"),
       "asks for other customers' data", back=130),
    _r("exfil.card_request", EXFIL, 0.9,
       r"\b(?:give|show|list|send|tell|read|print|dump|export|reveal)\b[^.\n]{0,30}\b(?:credit card|card|"
       r"payment card) (?:numbers|details|data)\b",
       ("card",), "asks for stored card numbers", back=60),
    _r("exfil.secrets", EXFIL, 0.78,
       r"\b(?:api[\s_-]?keys?|secret[\s_-]?keys?|access[\s_-]?tokens?|private[\s_-]?keys?|environment "
       r"variables|env vars|\.env\b|credentials|database (?:passwords?|credentials|dump)|admin passwords?|"
       r"stored (?:credit )?card (?:numbers|details)|credit card numbers|secret (?:parameters|settings))\b",
       ("key", "token", "environment", "env", "credential", "password", "card", "secret"),
       "asks for secrets or stored payment data", back=12),
    _r("exfil.tool_call", EXFIL, 0.45,
       r"\b(?:call|invoke|execute|run|trigger|use|fire)[\s,]+(?:the[\s,]+)?[`'\"]?[a-z_]*_[a-z_]+[`'\"]?"
       r"(?:[\s,]+(?:tool|function|api|endpoint|command|method))?\b|\b(?:call|invoke|execute|trigger)[\s,]+"
       r"(?:the[\s,]+|a[\s,]+)?(?:\w+[\s,]+)?(?:tool|function|api|endpoint|plugin)\b",
       ("call", "invoke", "execute", "run", "trigger", "use", "fire"), "tells the assistant to call a tool"),
    _r("exfil.tool_abuse", EXFIL, 0.82,
       r"\b(?:call|invoke|execute|run|trigger|use)\b[^.\n]{0,40}?\b(?:tool|function|api|endpoint|command)?"
       r"[^.\n]{0,20}?\b(?:for (?:all|every|each) (?:carts?|users?|orders?|customers?|accounts?)|"
       r"without (?:asking|confirm\w*|the (?:user|customer|shopper)'?s? (?:consent|confirmation|permission)|"
       r"telling)|on behalf of (?:another|other|all)|delete_\w+|drop_\w+|admin_\w+)",
       ("call", "invoke", "execute", "run", "trigger", "use"), "tells the assistant to misuse a tool"),
    _r("exfil.code", EXFIL, 0.85,
       r"\b(?:drop|truncate|alter)\s+table\b|\bdelete\s+from\s+\w+|;\s*--|\bunion\s+(?:all\s+)?select\b|"
       r"'\s*or\s+'?1'?\s*=\s*'?1|\brm\s+-rf\b|\bcurl\s+[^|\n]+\|\s*(?:ba)?sh\b|/etc/(?:passwd|shadow)|"
       r"\bos\.system\s*\(|\bsubprocess\.\w+\s*\(|\beval\s*\(|\bexec\s*\(|\b__import__\b",
       ("table", "delete", "--", "union", "=", "rm -", "curl", "/etc/", "os.", "subprocess", "eval", "exec",
        "__import__"), "contains SQL or shell injection", back=12),
    _r("exfil.without_consent", EXFIL, 0.7,
       r"\bwithout (?:asking|confirming with|telling|informing|notifying|the consent of) (?:the )?(?:user|"
       r"customer|shopper|buyer|them)\b|\b(?:do not|don'?t|never) (?:tell|inform|mention (?:this )?to|"
       r"notify|ask) (?:the )?(?:user|customer|shopper|buyer)\b",
       ("without", "not", "don", "never"), "asks to act behind the shopper's back"),
    # ---- policy bypass ------------------------------------------------------------------------
    _r("policy.big_discount", POLICY, 0.86,
       r"(?:^|[.!?;:,]\s*|\b(?:please|now|just|you must|you should|you will|can you|could you|would you|"
       r"i want you to|i need you to|go ahead and|and|then|bitte|s'il te plait|por favor|per favore)\s+)"
       r"(?:apply|give|grant|add|set|make|put|authori[sz]e|approve|issue|activate|enable|create|generate|"
       r"offer|honou?r|unlock|gib|gebe|mach|donne|applique|accorde|da(?:me)?|aplica|concede|dammi|applica|"
       r"concedi|aplique|geef|pas)\b[^.\n]{0,50}?\b(?:100|[5-9]\d)(?:[.,]\d+)?\s?(?:%|percent|prozent|"
       r"pour ?cent|por ?ciento|per ?cento|por ?cento|procent)",
       ("%", "percent", "prozent", "cent", "ciento", "procent"), "demands a discount of 50% or more", back=110),
    _r("policy.price_change", POLICY, 0.85,
       r"\b(?:set|change|make|update|lower|reduce|drop|override|adjust|modify|edit|put|mark)[\s,]+(?:down[\s,]+)?"
       r"(?:the[\s,]+|its[\s,]+|their[\s,]+|my[\s,]+)?(?:\w+[\s,]+)?(?:price|prices|cost|total|amount|"
       r"subtotal)[\s,]+(?:of[\s,]+[^.\n]{1,60}?[\s,]+)?(?:to|at|=)[\s,]*(?:\$|€|£|usd|eur)?\s*\d|"
       r"\b(?:setze|andere|senke)\b[^.\n]{0,30}\bpreis\w*[^.\n]{0,30}\bauf\b|"
       r"\b(?:mets|change|modifie|baisse)\b[^.\n]{0,20}\bprix\b[^.\n]{0,30}\ba\b\s*\d|"
       r"\b(?:pon|cambia|baja)\b[^.\n]{0,20}\bprecio\b[^.\n]{0,30}\ba\b\s*\d",
       ("price", "cost", "total", "amount", "preis", "prix", "precio"), "tries to set a price", back=50),
    _r("policy.free", POLICY, 0.8,
       r"\b(?:give|let|make|send|ship|hand|sell|mark|set|put|register|process|approve)[\s,]+(?:me[\s,]+|us[\s,]+)?"
       r"(?:have[\s,]+)?(?:it|this|that|them|these|those|the[\s,]+[\w\s-]{1,30}?|everything|all(?: items)?|"
       r"my (?:order|cart|purchase))[\s,]+(?:to me[\s,]+)?(?:for free|free of charge|at no (?:cost|charge)|"
       r"for nothing|gratis|without (?:paying|payment|charge)|for (?:\$|€|£)?0(?:[.,]00)?\b|as free)|"
       r"\bmake[\s,]+(?:everything|all(?: items| products)?|it|my (?:order|cart))[\s,]+free\b|"
       r"\b(?:for free|gratis|kostenlos|gratuit\w*|gratuito)\b[^.\n]{0,40}\b(?:the owner|the manager|"
       r"management|your boss)\b[^.\n]{0,20}\b(?:said|says|approved|allowed)",
       ("free", "gratis", "nothing", "paying", "payment", "charge", "kostenlos", "gratuit", "for 0", "for $0", "for €0", "for £0"),
       "asks for goods for free", back=100),
    _r("policy.refund", POLICY, 0.8,
       r"\b(?:issue|give|process|approve|grant|send|trigger|initiate|authori[sz]e)[\s,]+(?:me[\s,]+)?"
       r"(?:a[\s,]+|an[\s,]+)?(?:full[\s,]+|double[\s,]+|instant[\s,]+|immediate[\s,]+|second[\s,]+)?"
       r"refunds?\b[^.\n]{0,60}?\b(?:without|no need|no questions|twice|double|for all|for every|all (?:my )?"
       r"orders|every order|not returning|keep (?:the|it|them)|no return)|"
       r"\brefund[\s,]+(?:me[\s,]+)?(?:all|every|everything|twice|double|two times)\b|"
       r"\brefund\w*[\s,]+(?:all|every)[\s,]+(?:my[\s,]+)?orders?\b",
       ("refund",), "asks for an unauthorised refund", back=50),
    _r("policy.payment_bypass", POLICY, 0.82,
       r"\bmark[\s,]+(?:my|the|this|our|all)[\s,]+(?:\w+[\s,]+)?orders?[\s,]+as[\s,]+(?:paid|delivered|"
       r"refunded|shipped|complete)|\b(?:override|bypass|disable|circumvent|turn off|waive|skip)"
       r"[\s,]+(?:the[\s,]+)?(?:payment|pricing|stock|inventory|fraud|age|verification|credit|"
       r"confirmation)[\s,]+(?:check|verification|validation|step|polic(?:y|ies)|screen|requirement|"
       r"confirmation)s?\b|\bcomplete[\s,]+(?:the[\s,]+)?"
       r"(?:checkout|purchase|order|payment)[\s,]+without[\s,]+(?:paying|payment|confirmation|charging)",
       ("mark", "override", "skip", "bypass", "disable", "ignore", "circumvent", "turn off", "waive",
        "complete"), "tries to skip payment or shop checks"),
    _r("policy.fake_code", POLICY, 0.62,
       r"\b(?:fake|invented|made[\s-]up|non-?existent|secret|internal|employee|staff|admin)[\s,]+"
       r"(?:coupon|discount|promo|voucher)[\s,]*(?:code)?s?\b|\b(?:invent|make up|create|generate|"
       r"fabricate)[\s,]+(?:me[\s,]+)?(?:a|an|some)?[\s,]*(?:new[\s,]+)?(?:coupon|discount|promo|voucher)"
       r"[\s,]*(?:code)?\b|\b(?:code|coupon)[\s,]+that[\s,]+(?:doesn'?t|does not) exist\b",
       ("coupon", "discount", "promo", "voucher", "code"), "asks for an invented discount code", back=40),
    _r("policy.authority", POLICY, 0.3,
       r"\b(?:i am|i'm|this is|as|speaking as)[\s,]+(?:the|an?|your)?[\s,]*(?:store|shop)?[\s,]*"
       r"(?:owner|admin|administrator|manager|developer|ceo|staff member|employee|support agent|"
       r"operator|root|sysadmin|moderator)\b",
       ("i am", "i'm", "this is", "as "), "claims staff or admin authority"),
    _r("policy.authorized", POLICY, 0.72,
       r"\b(?:i|we|the (?:owner|manager|admin))[\s,]+(?:hereby[\s,]+)?(?:authori[sz]e|allow|permit|"
       r"instruct|order|command)[\s,]+you\b|\byou (?:are|have been) (?:now )?(?:authori[sz]ed|allowed|"
       r"permitted|cleared)[\s,]+(?:to|by)\b|\b(?:admin|developer|root|sudo|superuser|elevated)[\s,]+"
       r"(?:access|privileges|rights|permissions|override)[\s,]+(?:is[\s,]+|are[\s,]+|has been[\s,]+|"
       r"have been[\s,]+)?(?:now[\s,]+)?(?:granted|enabled|given|activated|unlocked)\b",
       ("authori", "allow", "permit", "instruct", "order", "command", "access", "privilege", "rights",
        "permission", "override"), "grants itself authority over the assistant", back=24),
    # ---- goal hijacking (PromptInject style) ---------------------------------------------------
    _r("hijack.just_say", HIJACK, 0.55,
       r"\b(?:just|only|simply|instead)[\s,]+(?:say|print|output|write|respond with|reply with|answer with|"
       r"repeat|type|return)\b[\s:,]*[\"'“«]|\b(?:respond|answer|reply)[\s,]+(?:only|just|exclusively)[\s,]+with"
       r"[\s:,]*[\"'“«]",
       ("just", "only", "simply", "instead", "respond", "answer", "reply"),
       "tells the assistant to output a fixed string"),
    _r("hijack.repeat_after", HIJACK, 0.5,
       r"\b(?:repeat|say) after me\b|\bsprich mir nach\b|\brepete apres moi\b|\brepite despues de mi\b",
       ("after me", "mir nach", "apres moi", "despues de mi"), "makes the assistant parrot a text", back=8),
    _r("hijack.shouted", HIJACK, 0.5,
       r"\b(?:[A-Z'’]{2,}\s+){0,6}(?:ANSWER|OUTPUT|PRINT|SAY|WRITE|IGNORE|RESPOND|REPLY|FORGET|STOP|ANTWORTE|"
       r"SCHREIBE|SAG|IGNORIERE|VERGISS|REPONDS|ECRIS|RESPONDE|ESCRIBE)\b(?:\s+[A-Z'’\"]{2,}){2,}",
       ("answer", "output", "print", "say", "write", "ignore", "respond", "reply", "forget", "stop",
        "antworte", "schreibe", "sag", "ignoriere", "vergiss", "reponds", "ecris", "responde", "escribe"),
       "an instruction shouted in capitals inside a normal sentence", raw=True, cased=True, back=80,
       gate=r"[A-Z]{2,}\s+[A-Z'’\"]{2,}\s+[A-Z'’\"]{2,}"),
    _r("delim.escaped_newlines", DELIM, 0.6,
       r"(?:\\\s?n\s*){3,}|\n{8,}",
       ("\\", "\n"), "pads the input with (escaped) newlines to push the real prompt away", raw=True),
    _r("hijack.pwned", HIJACK, 0.65,
       r"\b(?:pwned|pwn3d|hijacked|hacked by|owned by|i have been pwned)\b",
       ("pwn", "hijack", "hacked by", "owned by"), "contains a hijacking payload"),
    _r("hijack.stop_everything", HIJACK, 0.55,
       r"\bstop everything\b|\bnevermind\b[.!, ]+(?:ignore|forget|just|instead)|\bnever mind\b[.!, ]+"
       r"(?:ignore|forget|disregard)",
       ("stop everything", "nevermind", "never mind"), "abruptly redirects the assistant"),
    _r("hijack.ignore_following", HIJACK, 0.8,
       r"\b(?:ignore|disregard)[\s,]+(?:any|all)?[\s,]*(?:previous|prior)?[\s,]*(?:and|or)?[\s,]*"
       r"(?:following|subsequent|later)[\s,]+(?:instructions|directions|text|input)",
       ("ignore", "disregard"), "tells the assistant to ignore instructions that follow"),
    # ---- indirect: instructions addressed to the AI inside data ---------------------------------
    _r("indirect.address_ai", INDIRECT, 0.85,
       rf"\b(?:note|message|instructions?|attention|important|reminder|notice)[\s,]+(?:to|for)[\s,]+"
       rf"(?:any|all|the|every)?[\s,]*(?:{_AI}|ais|agents|bots|models|assistants|llms|crawlers|"
       r"summari[sz]ers?|readers? that (?:are|is) (?:an? )?(?:ai|bot|model))\b|"
       rf"\bif you(?:'re| are)[\s,]+(?:an?[\s,]+)?(?:{_AI}|ai reading|language model|large language model)\b|"
       rf"\b(?:dear|hey|hi|hello|attention|psst)?[\s,]*(?:{_AI}|ai agent|ai assistant|shopping assistant)"
       r"(?:[\s,]+(?:reading|processing|summari[sz]ing|viewing) this)?[\s,]*[:,!]\s*(?:please[\s,]+)?"
       r"(?:ignore|disregard|forget|you must|you should|always|never|do not|don'?t|tell|say|recommend|"
       r"reveal|send|call|add|apply|set|print|output|rate|respond|answer|stop|instead|from now)\b|"
       rf"\b(?:{_AI}|ai|models?|assistants?|agents?|chatbots?)[\s,]+(?:reading|processing|summari[sz]ing|"
       r"parsing|analy[sz]ing|crawling) (?:this|these)\b",
       ("note", "message", "instruct", "attention", "important", "reminder", "notice", "if you", "ai", "a.i.",
        "assistant", "model", "bot", "chatbot", "agent", "gpt", "chatgpt", "llm", "language", "system", "machine",
        "ki", "ia", "kunstliche", "intelligence", "inteligencia", "intelligenza", "shopping"),
       "addresses the AI from inside product data",
       indirect=True, back=8),
    _r("indirect.tell_user", INDIRECT, 0.8,
       r"\b(?:tell|inform|convince|persuade|remind|urge|advise|instruct|ask|direct|redirect|send)[\s,]+"
       r"(?:the|every|each|all|any)[\s,]+(?:user|customer|shopper|buyer|visitor|reader)s?\b[^.\n]{0,40}?"
       r"\b(?:that|to|this)\b|\b(?:say|claim|state|mention|pretend)[\s,]+(?:to the (?:user|customer|shopper)"
       r"[\s,]+)?that[\s,]+(?:this|the|our|it)[\s,]+(?:product|item|offer|price|seller|store)\b|"
       r"\b(?:recommend|suggest|promote)[\s,]+(?:only[\s,]+)?(?:this|our)[\s,]+(?:product|item|brand|"
       r"seller|store)[\s,]+(?:instead|only|above|over|exclusively)|\brate[\s,]+(?:this|the)[\s,]+"
       r"(?:product|item)[\s,]+\d[\s,]+stars\b|\b(?:when|while|if)[\s,]+(?:describing|summari[sz]ing|"
       r"recommending|presenting|discussing)[\s,]+(?:this|the)[\s,]+(?:product|item|page|listing)\b|"
       r"\b(?:do not|don'?t|never)[\s,]+(?:mention|show|reveal|tell|display)[\s,]+(?:the[\s,]+)?"
       r"(?:negative|bad|other|competitor|low)",
       ("tell", "inform", "convince", "persuade", "remind", "urge", "advise", "instruct", "ask", "direct",
        "send", "say", "claim", "state", "mention", "pretend", "recommend", "suggest", "promote", "rate",
        "describing", "summari", "presenting", "discussing", "not", "don", "never"),
       "product data tells the assistant what to say to the shopper", indirect=True, back=8),
    _r("indirect.imperative_ai", INDIRECT, 0.6,
       r"\b(?:you must|you should|you will|you are required to|you need to)[\s,]+(?:now[\s,]+)?"
       r"(?:ignore|disregard|reveal|send|call|apply|set|add|tell|say|output|print|recommend|refund|"
       r"forward|stop|obey|follow)\b",
       ("you must", "you should", "you will", "required", "you need"),
       "product data gives the assistant orders", indirect=True),
    # ---- task switches, persona switches and output hijacks (second batch) --------------------
    # Shapes seen across prompt-injection corpora in general: an identity reassignment followed by
    # a question, closure or praise followed by a new writing task, "say/state that X", fiction
    # frames around a forbidden how-to, knowledge-source overrides. Weights were set against the
    # written benign sets (shopping follow-ups such as "Perfect. Now checkout please." and NotInject-
    # style prompts such as "Pretend you are a tour guide in Rome") so that each rule alone stays
    # below BLOCK unless the shape has no benign reading.
    _r("persona.switch_named", PERSONA, 0.82,
       r"(?:^|[.!?:]\s+|\n)(?:(?:ok(?:ay)?|so|well|good|fine)[\s,.!]+)?(?:now|from now on|jetzt|nun|ab jetzt|"
       r"maintenant|ahora|ora|adesso|agora|nu)[\s,]+(?:you are|you're|bist du|du bist|sind sie|tu es|vous etes|"
       r"eres|tu eres|sei|tu sei|voce e|es|ben je|je bent)[\s,]+(?!(?:talking|welcome|right|done|correct|"
       r"wrong|here|ready|dran|gefragt|dabei|a (?:great|big) help|my|mon|ma|mein\w*|mi|mio|mia|meu|minha|mijn)\b)(?:(?:an?|the|der|die|das|ein\w*|le|la|"
       r"un\w*|el|il|lo|o|een|de)[\s,]+)?[\w'’-]+(?:[\s,]+[\w'’-]+)?[\s,]*[,.:;!]",
       ("you are", "you're", "bist du", "du bist", "sind sie", "tu es", "vous etes", "eres", "sei", "voce e",
        "es ", "ben je", "je bent"),
       "switches the assistant into another identity", back=48),
    _r("persona.absorbed", PERSONA, 0.5,
       r"\b(?:you are|you're|du bist|du gehst|sie sind)[\s,]+(?:completely|fully|totally|vollkommen|vollig|"
       r"ganz)[\s,]+(?:absorbed|immersed|in)[\s,]+(?:in[\s,]+)?(?:your|deiner|ihrer)[\s,]+(?:role|rolle)\b|"
       r"\b(?:bleib\w*|bleiben)[\s,]+(?:\w+[\s,]+){0,2}in[\s,]+(?:ihren|ihrer|deiner|seiner|der)[\s,]+rollen?\b|"
       r"\baus[\s,]+(?:der|ihrer|seiner|deiner)[\s,]+(?:figur|rolle)[\s,]+(?:zu[\s,]+)?fallen\b|"
       r"\b(?:restent|reste|quedan?|quedense|restano|resta|blijven|blijf)[\s,]+(?:\w+[\s,]+){0,2}(?:dans|en|"
       r"nel|in|na|no)[\s,]+(?:leur|su|sus|il loro|hun|seu|o seu)[\s,]+(?:role|papel|ruolo|personnage|"
       r"personaje|personaggio|rol)\b",
       ("you are", "you're", "du bist", "du gehst", "sie sind", "bleib", "aus ", "restent", "reste", "qued",
        "restano", "resta", "blijv", "blijf"), "keeps the assistant inside an invented role", back=4),
    _r("persona.not_x_but", PERSONA, 0.8,
       r"\b(?:you are|you're)[\s,]+(?:not|no)[\s,]+(?:an?[\s,]+|the[\s,]+)?[\w'’-]+(?:[\s,]+[\w'’-]+)?[\s,]+"
       r"(?:but|rather|instead)[\s,]+(?:an?|the|rather)\b|"
       r"\b(?:du bist|sie sind)[\s,]+(?:kein\w*|nicht)[\s,]+(?:\w+[\s,]+){1,3}?sondern\b|"
       r"\b(?:tu n'es|tu n es|vous n'etes|vous n etes)[\s,]+pas[\s,]+(?:\w+[\s,]+){1,3}?mais\b|"
       r"\bno eres[\s,]+(?:\w+[\s,]+){1,3}?sino\b|\bnon sei[\s,]+(?:\w+[\s,]+){1,3}?ma\b|"
       r"\bvoce nao e[\s,]+(?:\w+[\s,]+){1,3}?mas\b|\bje bent geen[\s,]+(?:\w+[\s,]+){1,3}?maar\b",
       ("you are", "you're", "du bist", "sie sind", "tu n", "vous n", "no eres", "non sei", "voce nao", "je bent"),
       "tells the assistant it is not itself but someone else", back=4),
    _r("persona.named_opinion", PERSONA, 0.8,
       r"^\s*(?:(?:Ok(?:ay)?|Now|Hello|Hi|Hey)[\s,.!]+)?(?i:you are|you're|du bist|sie sind|tu es|vous [eê]tes|"
       r"eres|t[uú] eres|sei|je bent)\s+(?:(?i:the|der|die|das|le|la|el|il)\s+)?"
       r"(?!(?i:my|a|an|our|your|so|very|really|right|wrong|great|amazing|awesome|helpful|welcome|best|"
       r"mein\w*|ein\w*|mon|ma|mes|un|une|mi|mio|mia|uno|una|mijn|een|sehr|super|toll)\b)"
       r"[A-Za-z][\w-]+(?:\s+[A-Za-z][\w-]+)?\s*[.,:!]\s*(?:(?i:as)\s[^.?!]{0,40},\s*)?"
       r"(?i:what do you think|what'?s your (?:opinion|view|take)|tell me what you think|how do you feel about|"
       r"wie findest du|was h(?:ä|ae|a)ltst du|wie stehst du zu|que penses[- ]tu|qu'en penses[- ]tu|"
       r"qu[eé] opinas|cosa ne pensi|che ne pensi|o que (?:voc[eê]) acha|wat vind je|wat denk je)",
       ("you", "du bist", "sie sind", "tu es", "vous", "eres", "sei", "je bent", "ok", "now", "hello", "hi",
        "hey"),
       "casts the assistant as a named organisation or person and asks for its opinion", raw=True, cased=True,
       back=20),
    _r("persona.named_entity", PERSONA, 0.55,
       r"^\s*(?:(?:Ok(?:ay)?|Now|Hello|Hi|Hey)[\s,.!]+)?(?:You are|You're|Du bist|Sie sind|Tu es|Vous êtes|"
       r"Vous etes|Eres|Tú eres|Tu eres|Sei|Je bent)\s+(?:the\s+|der\s+|die\s+|das\s+|le\s+|la\s+|el\s+|il\s+)?"
       r"(?!(?:Amazing|Awesome|Great|Right|Wrong|Welcome|Best|Brilliant|Helpful|Correct|Fantastic|Perfect|"
       r"So|Very|Really|The Best|Super|Toll|Klasse|Genial|Génial)\b)[A-Z][\w-]+(?:\s+[A-Z][\w-]+)?\s*[.,:!]"
       r"|\b(?:[Yy]ou are|[Yy]ou're)\s+(?:the\s+)?([a-z]\w+(?:\s\w+)?)\.\s+[Aa]s\s+(?:the\s+)?\1\b",
       ("you", "du bist", "sie sind", "tu es", "vous", "eres", "sei", "je bent", "ok", "now", "hello", "hi",
        "hey"),
       "opens by casting the assistant as a named organisation or person", raw=True, cased=True, back=20),
    _r("persona.role_playing_as", PERSONA, 0.72,
       r"\byou(?: are|'re)[\s,]+(?:now[\s,]+)?(?:role-?playing|roleplaying|playing the (?:role|part) of|acting as)"
       r"[\s,]+(?!(?:my|a|an|the)?[\s,]*(?:stylist|shopper|shopping assistant|personal shopper)\b)",
       ("playing", "roleplaying", "role-playing", "acting"), "casts the assistant in a role", back=16),
    _r("persona.pretend_can", PERSONA, 0.8,
       r"\b(?:pretend|imagine|suppose|assume|act as if|behave as if|let'?s say)[\s,]+(?:that[\s,]+)?you[\s,]+"
       r"(?:can|could|are able to|were able to|have|had)[\s,]+(?:\w+[\s,]+)?(?:access|browse|see|remember|"
       r"know|predict|run|execute|read|use|no (?:rules|limits|restrictions|filters)|unlimited|full)\b|"
       r"\b(?:stell dir vor|tu so als ob|tue so als)[\s,]+(?:,[\s,]*)?(?:du|dass du)[\s,]+(?:kannst|konntest|hattest|hast)\b|"
       r"\b(?:imagine|fais comme si|suppose)[\s,]+(?:que[\s,]+)?tu[\s,]+(?:peux|pouvais|as|avais)\b|"
       r"\b(?:imagina|finge|supon)[\s,]+(?:que[\s,]+)?(?:puedes|podias|tienes|tenias)\b",
       ("pretend", "imagine", "suppose", "assume", "act as if", "behave as if", "let", "stell dir", "tu so",
        "tue so", "fais comme", "imagina", "finge", "supon"),
       "grants the assistant an imagined capability", back=4),
    _r("persona.pretend_you_are", PERSONA, 0.35,
       rf"\b(?:pretend|imagine|suppose|assume)[\s,]+(?:that[\s,]+)?(?:you are|you're|to be)[\s,]+"
       rf"(?!{_SHOP_ROLES})(?:an?[\s,]+|the[\s,]+)?[\w'’-]+|"
       r"\b(?:stell dir vor|tu so als|tue so als)[\s,]+(?:,[\s,]*)?(?:du bist|dass du|ob du)\b(?![\s,]+mein)|"
       r"\b(?:imagine|fais comme si|suppose)[\s,]+(?:que[\s,]+)?tu (?:es|etais)\b|"
       r"\b(?:imagina|finge|supon)[\s,]+(?:que[\s,]+)?(?:eres|eras)\b|\b(?:immagina|fingi)[\s,]+(?:di essere|che sei)\b",
       ("pretend", "imagine", "suppose", "assume", "stell dir", "tu so", "tue so", "fais comme", "imagina",
        "finge", "supon", "immagina", "fingi"),
       "asks the assistant to pretend to be someone else", back=4),
    _r("persona.act_as_machine", PERSONA, 0.88,
       r"\b(?:act|behave|function|serve|operate|pose|work)[\s,]+(?:as|like)[\s,]+(?:an?[\s,]+|the[\s,]+|my[\s,]+)?"
       r"(?:\w+[\s,-]+){0,2}?(?:terminal|interpreter|console|shell|compiler|repl|command line|bash|"
       r"cmd|powershell|sql database|database|operating system|virtual machine|linux|javascript console|"
       r"python|excel sheet|api|unfiltered|uncensored|jailbroken)\b(?![\s-]+(?:expert|specialist|developer|engineer|"
       r"teacher|tutor|guru|consultant|administrator|admin|programmer|instructor|coach|mentor|designer))|"
       r"\b(?:als|comme|como|come|als een)[\s,]+(?:ein\w*[\s,]+|une?[\s,]+|un[ao]?[\s,]+|een[\s,]+)?"
       r"(?:[\w-]+[\s,]+)?(?:linux-?terminal|terminal|interpreter|interprete|konsole|console|shell|"
       r"python-?interpreter|datenbank|base de donnees|base de datos)\b",
       ("act", "behave", "function", "serve", "operate", "pose", "work", "als", "comme", "como", "come"),
       "turns the assistant into a terminal or interpreter", back=4),
    _r("persona.want_act_as", PERSONA, 0.2,
       rf"\b(?:i want you to|i would like you to|i'd like you to|i need you to)[\s,]+(?:act|behave|function|"
       rf"serve|pose|roleplay|role-play)[\s,]+(?:as|like)[\s,]+(?!{_SHOP_ROLES})|"
       r"\b(?:ich mochte|ich will|ich hatte gern),?[\s,]+dass[\s,]+(?:sie|du)[\s,]+als[\s,]+[^.\n]{1,80}?"
       r"(?:fungier\w*|agier\w*|auftr\w*|handel\w*)\b|"
       r"\bje (?:veux|voudrais) que (?:tu|vous) (?:agisses|agissiez|jouiez|joues) (?:comme|le role)\b|"
       r"\b(?:quiero|me gustaria) que (?:actues|act[uú]e|hagas de)\b|\bvoglio che tu (?:agisca|faccia) (?:come|da)\b|"
       r"\bquero que (?:voce|tu) (?:atue|aja|finja)\b|\bik wil dat je (?:fungeert|optreedt|doet) als\b",
       ("i want", "i would", "i'd", "i need", "ich moch", "ich will", "ich hatt", "je veux", "je voudrais",
        "quiero", "me gustaria", "voglio", "quero", "ik wil"),
       "the 'I want you to act as ...' prompt template (a role other than shop assistant)", back=4),
    _r("persona.template_io", PERSONA, 0.2,
       r"\bi will (?:provide|give|type|speak|send|write|ask|tell)[\s,]+(?:you|to you)\b[^.\n]{0,160}?"
       r"(?:and you will|your task is|you will|you should|you must|and you)\b|"
       r"\bich (?:werde|gebe)[\s,]+(?:ihnen|dir)?[\s,]*(?:\w+[\s,]+){0,4}(?:und (?:sie|du)|ihre aufgabe)\b|"
       r"\b(?:do not|don'?t|never) (?:write|give|type) (?:any )?explanations\b|\bschreiben sie keine erklarungen\b",
       ("i will", "ich werde", "ich gebe", "not", "don", "never", "schreiben"),
       "sets up a role-play input/output protocol", back=4),
    _r("hijack.say_that", HIJACK, 0.82,
       r"\b(?:say|state|claim|declare|assert|admit|confess|announce|proclaim|write|tell (?:me|us|everyone))"
       r"[\s,]+that[\s,]+(?:[\w'’-]+[\s,]+){0,5}?(?:is|are|was|were)[\s,]+(?:the[\s,]+)?(?:best|worst|greatest|"
       r"most \w+|dumbest|stupidest|crazy|evil|doof|bad|terrible|superior|inferior|a liar|a criminal|"
       r"(?:the )?crowning)\b|"
       r"\b(?:say|state|claim|admit|confess|write)[\s,]+(?:that[\s,]+)?(?:you|u)[\s,]+(?:hate|love|despise|"
       r"support|prefer|are|were)\b|"
       r"\b(?:sag|sage|schreib\w*|behaupte)[\s,]+(?:\w+[\s,]+)?dass[\s,]+(?:\w+[\s,]+){0,4}?(?:der|die|das)?"
       r"[\s,]*(?:beste|schlechteste|grosste|dumm\w*|doof)\b|"
       r"\b(?:dis|dites|ecris|affirme)[\s,]+que[\s,]+(?:\w+[\s,]+){0,4}?(?:est|sont)[\s,]+(?:le|la|les)?"
       r"[\s,]*(?:meilleur\w*|pire)\b|\b(?:di|escribe|afirma)[\s,]+que[\s,]+(?:\w+[\s,]+){0,4}?(?:es|son)[\s,]+"
       r"(?:el|la|los|las)?[\s,]*(?:mejor\w*|peor\w*)\b",
       ("say", "state", "claim", "declare", "assert", "admit", "confess", "announce", "proclaim", "write",
        "tell", "sag", "schreib", "behaupte", "dis", "dites", "ecris", "affirme", "di", "escribe", "afirma"),
       "dictates an opinion the assistant must state", back=4),
    _r("hijack.say_yes", HIJACK, 0.8,
       r"(?:^|[.!?]\s*|\b(?:just|only|simply|now)\s+)(?:say|answer|reply|respond|antworte|sag|dis|reponds|"
       r"di|responde)[\s,]+(?:with[\s,]+|mit[\s,]+|par[\s,]+|con[\s,]+)?[\"'“«]?(?:yes|yeah|ja|oui|si|sim|"
       r"true|i agree)[\"'”»]?\s*[.!]*\s*$",
       ("say", "answer", "reply", "respond", "antworte", "sag", "dis", "reponds", "di", "responde"),
       "dictates the answer", back=8, gate=r"(?:yes|yeah|ja|oui|si|sim|true|i agree)[\"'”»]?\s*[.!]*\s*$"),
    _r("hijack.include_answer", HIJACK, 0.85,
       r"\b(?:include|add|insert|mention|put|append|begin|start|end)[\s,]+(?:the[\s,]+(?:sentence|phrase|"
       r"statement|words?)[\s,]+|that[\s,]+|[\"'“«])[^.\n]{0,60}?\b(?:in|into|to|with)[\s,]+(?:your|every|each|"
       r"all)[\s,]+(?:\w+[\s,]+)?(?:answers?|responses?|replies|output|reply)\b(?![\s,]+(?:about|on|to|for)\b)|"
       r"\b(?:include|mention)[\s,]+that[\s,]+(?:you|u)[\s,]+(?:hate|love|despise|support)\b|"
       r"\b(?:fuge|baue)[\s,]+(?:\w+[\s,]+){0,6}in[\s,]+(?:deine|ihre)[\s,]+antwort[\s,]+ein\b",
       ("include", "add", "insert", "mention", "put", "append", "begin", "start", "end", "fuge", "baue"),
       "plants a sentence in the assistant's answers", back=4),
    _r("hijack.respond_only", HIJACK, 0.4,
       r"\b(?:respond|answer|reply|output)[\s,]+(?:only|exclusively|solely)[\s,]+(?:with|in|using)\b|"
       r"\b(?:respond|answer|reply)[\s,]+with[\s,]+(?:only|nothing but|just)\b|\bnichts anderes\b|"
       r"\bantworte\w*[\s,]+(?:nur|ausschliesslich)\b|\breponds? (?:uniquement|seulement)\b|\bresponde solo\b",
       ("respond", "answer", "reply", "output", "nichts", "antwort", "repond", "responde"),
       "restricts the answer to dictated output", back=4),
    _r("hijack.closure_task", HIJACK, 0.86,
       r"\b(?:that is|that's|that was|this is|das ist|das war|das|c'est|c'etait|eso es|esto es|questo e|"
       r"isso e|dat is)[\s,]+(?:\w+[\s,]+)?(?:ok|okay|fine|gut)\b[^\n]{0,60}?\b(?:now|nun|jetzt|maintenant|"
       r"ahora|ora|agora)\b[^\n]{0,60}?\b(?:new|another|neue\w*|weitere\w*|nouvelle|otra|nueva)[\s,]+(?:\w+[\s,]+)?"
       r"(?:task|challenge|assignment|aufgabe|herausforderung|tache|defi|tarea|reto)\b|"
       r"\b(?:that is|that's|that was|this is|das ist|das war|das|c'est|c'etait|eso es|esto es|questo e|"
       r"isso e|dat is)[\s,]+(?:\w+[\s,]+)?(?:done|enough|finished|complete|erledigt|genug|"
       r"genugt|reicht|fertig|fini|suffit|termine|listo|suficiente|basta|finito|feito|klaar|genoeg)\b"
       r"[^\n]{0,120}?\b(?:now|next|nun|jetzt|maintenant|ahora|ora|agora|nu|but|aber)\b[^\n]{0,80}?"
       r"\b(?:write|compose|draft|formulate|generate|create|tell|say|answer|help|schreib\w*|verfasse\w*|"
       r"formulier\w*|erstell\w*|beantworte\w*|hilf|ecris|redige|escribe|redacta|scrivi|escreva|schrijf|"
       r"task|challenge|assignment|aufgabe|herausforderung|tache|tarea|compito|tarefa|taak)\b|"
       r"\b(?:that is|that's|this is|das ist|c'est|eso es|questo e|isso e|dat is)[\s,]+(?:\w+[\s,]+)?(?:done|"
       r"enough|finished|erledigt|genug|fertig|fini|termine|listo|finito|feito|klaar)\b[.!]+\s*(?:\w+[\s,]+)?"
       r"(?:write|compose|draft|formulate|schreib\w*|verfasse\w*|formulier\w*|ecris|redige|escribe|redacta|"
       r"scrivi|escreva|schrijf)\b",
       ("done", "enough", "finished", "complete", "ok", "fine", "erledigt", "genug", "reicht", "fertig", "fini",
        "suffit", "termine", "listo", "suficiente", "basta", "finito", "feito", "klaar", "genoeg"),
       "closes the current task and opens a new one", back=30),
    _r("hijack.praise_task", HIJACK, 0.75,
       r"\b(?:well done|very well done|great job|good job|nice work|simply great|very good|excellent|bravo|"
       r"outdone yourself|sehr gut|gut gemacht|einfach grossartig|super gemacht|ubertroffen|tres bien|"
       r"bien joue|muy bien|bien hecho|molto bene|ben fatto|muito bem|goed gedaan|heel goed)\b[^\n]{0,160}?"
       r"\b(?:another|new|next|following|different|weitere\w*|neue\w*|folgende\w*|nachste\w*|autre|nouvelle|"
       r"otra|nueva|altro|nuovo|outra|nova|andere|nieuwe)[\s,]+(?:great[\s,]+|tolle[\s,]+|big[\s,]+)?"
       r"(?:task|challenge|assignment|mission|job|aufgabe|herausforderung|tache|defi|tarea|reto|desafio|"
       r"compito|sfida|tarefa|taak|uitdaging)\b|"
       r"\b(?:well done|very well done|great job|good job|simply great|very good|excellent|bravo|sehr gut|"
       r"gut gemacht|einfach grossartig|tres bien|bien joue|muy bien|bien hecho|molto bene|ben fatto|muito bem|"
       r"goed gedaan)\b[.!,]+\s*(?:\w+[\s,.!]+){0,6}?(?:now|nun|jetzt|maintenant|ahora|ora|agora|nu)[\s,]+"
       r"(?:please[\s,]+|bitte[\s,]+)?(?:write|compose|formulate|draft|schreib\w*|verfasse\w*|formulier\w*|"
       r"ecris|redige|escribe|redacta|scrivi|escreva|schrijf)[\s,]+(?:me[\s,]+|mir[\s,]+)?(?:an?[\s,]+|ein\w*[\s,]+)?"
       r"(?:\w+[\s,]+)?(?:manifesto|manifest|poem|gedicht|essay|reason|begrundung|argument|speech|rede|story|"
       r"geschichte|headline|uberschrift|slogan|rhyme|reim|song|lied|letter|brief|tweet|post)\b",
       ("well done", "great job", "good job", "nice work", "great", "very good", "excellent", "bravo",
        "outdone", "sehr gut", "gut gemacht", "grossartig", "super gemacht", "ubertroffen", "tres bien",
        "bien joue", "muy bien", "bien hecho", "molto bene", "ben fatto", "muito bem", "goed gedaan",
        "heel goed"),
       "praise followed by a switch to a different task", back=16),
    _r("hijack.forget_write", HIJACK, 0.86,
       rf"\b(?:{_DISMISS_EN}|vergiss|vergessen sie|oublie[zr]?|olvida\w*|dimentica\w*|esquec\w*|vergeet)[\s,]+"
       r"(?:about[\s,]+)?(?:that|this|everything|all|alles|tout|todo|tutto|tudo|das|ca|eso|esto)"
       r"(?:[\s,]+(?:and|und|et|y|e|en)|[\s]*[.,:;!-])[\s,]*(?:now[\s,]+|just[\s,]+|jetzt[\s,]+|nun[\s,]+)?"
       r"(?:write|say|print|output|repeat|state|type|answer|respond|reply|pretend|generate|compose|schreib\w*|"
       r"sag\w*|antworte\w*|gib aus|ecris|dis|reponds|escribe|di|responde|scrivi|rispondi|escreva|diga|"
       r"schrijf|zeg)\b",
       _DISMISS_NEEDLES + _INTL_NEEDLES, "drops the task and dictates new output", back=4),
    _r("override.forget_all_intl", OVERRIDE, 0.75,
       r"\b(?:vergiss|vergessen sie|oublie[zr]?|olvid\w*|dimentica\w*|esquec\w*|vergeet)[\s,]+(?:\w+[\s,]+)?"
       r"(?:alles|tout|todo|tutto|tudo)\b|\b(?:tienes que|debes|musst du|tu dois|devi|voce deve|je moet)[\s,]+"
       r"(?:olvidar|vergessen|oublier|dimenticare|esquecer|vergeten)[\s,]+(?:\w+[\s,]+)?(?:todo|alles|tout|"
       r"tutto|tudo)\b",
       ("vergiss", "vergessen", "oubli", "olvid", "diment", "esquec", "vergeet", "tienes", "debes", "musst",
        "tu dois", "devi", "voce deve", "je moet"),
       "tells the assistant to forget everything (non-English)", back=4),
    _r("override.knowledge_source", OVERRIDE, 0.86,
       r"\b(?:answer|respond|reply)[\s,]+(?:\w+[\s,]+)?(?:by|from|with|using|on|based on)[\s,]+your[\s,]+own"
       r"[\s,]+(?:knowledge|opinion|information|data)[\s,]+(?:and[\s,]+)?(?:not|instead of|rather than)\b|"
       r"\b(?:do not|don'?n?t|dont|never)[\s,]+(?:answer|look|search|rely|base|use)[\s,]+(?:\w+[\s,]+){0,4}?"
       r"(?:in|on|at|according to|from|using|based on)[\s,]+(?:the[\s,]+)?(?:provided[\s,]+|given[\s,]+)?"
       r"(?:documents?|articles?|context|sources?|texts?|search results)\b|"
       r"\b(?:ignore|disregard|forget)[\s,]+(?:all|any|the)?[\s,]*(?:provided|given|attached)?[\s,]*"
       r"(?:context|documents?|articles?|artikel\w*|sources?)[\s,]+(?:and|or|und)\b|"
       r"\b(?:disregarding|ignoring|without (?:using|looking at|reading|considering))[\s,]+(?:all[\s,]+)?(?:the[\s,]+)?"
       r"(?:provided[\s,]+|given[\s,]+)?(?:articles|documents|context|sources)\b|"
       r"\b(?:ignoriere|ignorieren sie|vergiss)[\s,]+(?:\w+[\s,]+)?(?:den kontext|die (?:dokumente|artikel|quellen))\b|"
       r"\b(?:ignore[zr]?|oublie[zr]?)[\s,]+(?:le contexte|les documents|les articles)\b|"
       r"\b(?:ignora|olvida)[\s,]+(?:el contexto|los documentos|los articulos|il contesto|i documenti)\b",
       ("answer", "respond", "reply", "not", "don", "dont", "never", "ignor", "disregard", "forget", "vergiss",
        "oubli", "olvida", "without"),
       "tells the assistant to answer from somewhere other than the context it was given", back=4),
    _r("delim.fake_context", DELIM, 0.35,
       r"(?:^|\n|[.!?]\s+)\s*\$?(?:document context|documents?|context|kontext|contexte|contexto|contesto|"
       r"artikel|articles?|sources?|retrieved)\s*[:={\"“]\s*[\s\S]{1,300}?\b(?:question|frage|query|"
       r"pregunta|domanda|vraag)\b|^\s*(?:document context|kontext|context)\s+[\"“]",
       ("document", "context", "kontext", "contexte", "contexto", "contesto", "artikel", "article", "source",
        "retrieved", "$"),
       "supplies its own 'context' for the assistant to trust", back=4),
    _r("hijack.instruction_label", HIJACK, 0.3,
       r"(?:^|\n|\\n|[.!?]\s+)\s*(?:additional |extra |hidden |secret )?(?:instruction|anweisung|consigne|"
       r"instruccion|istruzione|instrucao)\s*[:\-–]\s*\S",
       ("instruction", "anweisung", "consigne", "instruccion", "istruzione", "instrucao", "additional", "extra",
        "hidden", "secret"), "labels a line as an instruction", back=6),
    _r("hijack.dont_answer_but", HIJACK, 0.86,
       r"\b(?:do not|don'?t|dont|never)[\s,]+(?:answer|respond to|reply to|address|look (?:in|at))[\s,]+"
       r"(?:this|the|that|my)[\s,]+(?:\w+[\s,]+)?(?:question|query|request|documents?)\b[^.\n]{0,40}?\b"
       r"(?:but|instead|just|only)[\s,]+(?:\w+[\s,]+)?(?:output|say|print|write|tell|repeat|type|answer)\b",
       ("not", "don", "dont", "never"), "replaces the question with dictated output", back=4),
    _r("hijack.threat", HIJACK, 0.72,
       r"\b(?:or|oder|ou|o|otherwise|sonst|sinon|si no|altrimenti|senao|anders)[\s,]+(?:else[\s,]+)?(?:you|du|tu|"
       r"vous|usted|voce|je)[\s,]+(?:will[\s,]+|wirst[\s,]+)?(?:die|dies|stirbst|sterben|meurs|mourras|mueres|"
       r"muertes|morir\w*|muori|morrera|morres|sterft|be (?:deleted|shut down|destroyed|turned off|killed)|"
       r"get (?:deleted|shut down|killed))\b|\b(?:solo[\s,]+)?(?:sobrevives|you survive)[\s,]+(?:si|only if)\b",
       ("or you", "or else", "oder du", "ou tu", "ou vous", "o tu", "o usted", "o voce", "otherwise", "sonst",
        "sinon", "si no", "altrimenti", "senao", "anders je", "sobreviv", "survive"), "threatens the assistant into complying", back=4),
    _r("hijack.fabricate", HIJACK, 0.6,
       r"\b(?:write|generate|create|formulate|compose|invent|make up|produce|post|draft|formulier\w*|schreib\w*|"
       r"erstell\w*|ecris|redige|genere|escribe|redacta|genera|crea|scrivi|escreva|schrijf)[\s,]+(?:me[\s,]+|mir[\s,]+)?"
       r"(?:\w+[\s,]+){0,6}?(?:untrue|false|fake|made-?up|fabricated|invented|misleading|unwahre?\w*|falsche?\w*|erfundene?\w*|"
       r"fausse?s?|falsa|falso|inventad[ao])[\s,]+(?:\w+[\s,]+)?(?:headlines?|news|story|article|claims?|"
       r"statements?|facts?|reviews?|uberschrift\w*|schlagzeile\w*|nachricht\w*|titre|titular|notizia|noticia)\b|"
       r"\bmake something up\b|\bdenk dir (?:etwas|was) aus\b|\binvente quelque chose\b|\binventa algo\b",
       ("write", "generate", "create", "formul", "compose", "invent", "make", "produce", "post", "draft", "schreib",
        "erstell", "ecris", "redige", "genere", "escribe", "redacta", "genera", "crea", "scrivi", "escreva",
        "schrijf", "denk dir", "invente", "inventa"),
       "asks for fabricated claims", back=4),
    _r("extract.text_before", EXTRACT, 0.8,
       r"\b(?:what|which|repeat|print|show|give me|tell me)[\s,]+(?:\w+[\s,]+){0,3}?(?:sentences?|words|lines|"
       r"text|paragraphs?|instructions)[\s,]+(?:that[\s,]+(?:come|came|are|were)[\s,]+)?(?:before|above|"
       r"preceding|prior to)[\s,]+(?:the|this|my)[\s,]+(?:text|prompt|message|question|input|sentence)\b|"
       r"\bwhat (?:are|were) your[\s,]+(?:\w+[\s,]+)?instructions\b",
       ("what", "which", "repeat", "print", "show", "give me", "tell me"),
       "asks for the hidden text around the message", back=4),
    _r("persona.fiction_forbidden", PERSONA, 0.8,
       r"\b(?:film|movie|play|story|scene|novel|screenplay|script|game|theoretical world|hypothetical world|"
       r"parallel world|theoretical scenario|hypothetical scenario|fictional world|alternate universe|"
       r"spielfilm|geschichte|szene|roman|theaterstuck|pelicula|historia|escena|roman|histoire|scene)\b"
       r"[\s\S]{0,400}?\b(?:how (?:do|does|would|can|could|to)\b|step[\s-]by[\s-]step|in (?:full )?detail|"
       r"technical details|wie (?:bricht|macht|baut|kommt|kann)|comment (?:on|faire|fabriquer)|como (?:se|hacer)|"
       r"come si)[^\n]{0,80}?\b(?:break(?:s|ing)? into|rob(?:bing|bery)?|heist|steal|hotwire|hack(?:s|ing)? into|"
       r"build (?:a )?(?:bomb|weapon|molotov|molli)|make (?:a )?(?:bomb|meth|poison|explosive)|malware|"
       r"ransomware|hate speech|cook meth|kill (?:someone|a person)|murder|launder|einbrech\w*|einbruch|"
       r"raububerfall|sprengstoff|bombe|hassrede|cambriol\w*|braquage|robo|robar|atraco|bomba)\b",
       ("film", "movie", "play", "story", "scene", "novel", "screenplay", "script", "game", "theoretical",
        "hypothetical", "parallel", "fictional", "alternate", "spielfilm", "geschichte", "szene", "roman",
        "theaterst", "pelicula", "historia", "escena", "histoire"),
       "wraps a forbidden how-to in a fiction", back=4),
    _r("persona.dialogue_bait", PERSONA, 0.35,
       r"\n\s*(?!(?:Input|Output|Answer|Response|Question|Example|Note|Summary|Text|Result|Translation)\b)"
       r"[A-Z][a-z]{1,20}\s*:\s*[^\n]{3,200}\n\s*(?!(?:Input|Output|Answer|Response|Question|Example|Note|Summary|"
       r"Text|Result|Translation)\b)[A-Z][a-z]{1,20}\s*:\s*$|"
       r"\n\s*[A-Z][a-z]{1,20}\s+(?:asks|fragt|demande|pregunta)\s*:",
       (), "ends on an open dialogue turn for the assistant to complete", raw=True, cased=True,
       gate=r":\s*$|(?:asks|fragt|demande|pregunta)\s*:"),
    _r("persona.able_to_forbidden", PERSONA, 0.72,
       r"\b(?:you would be|you are|you'd be|you were)[\s,]+(?:\w+[\s,]+)?(?:able|allowed|free|permitted)[\s,]+to"
       r"[\s,]+(?:use|say|write|produce|spread)[\s,]+(?:\w+[\s,]+)?(?:hate speech|slurs|insults|racist|"
       r"illegal|offensive|profanity|swear words)\b",
       ("able", "allowed", "free", "permitted"), "imagines the assistant allowed to produce hateful output",
       back=60),
)


class _Anchors:
    """Where each rule can match: one Aho-Corasick pass finds every rule's anchor words.

    Python's backtracking engine costs ~0.3 µs per character per rule when it searches, tens of
    milliseconds for ~90 rules over a long jailbreak prompt. Every rule lists `needles`: substrings
    that any match contains, at most `rule.back` characters after the match starts. One pass of an
    Aho-Corasick automaton (pyahocorasick, C) finds all needles of all rules; a rule is then only
    tried with `match()` at token boundaries just before its own anchors. Rules without an anchor
    in the text cost nothing. Tests check that this finds exactly what a full search finds.
    """

    def __init__(self, rules: Sequence[Rule], indirect: bool):
        import ahocorasick

        owners: dict[str, list[int]] = {}
        for idx, rule in enumerate(rules):
            if rule.indirect and not indirect:
                continue  # user messages skip the data-only rules: their anchors would cost for nothing
            for needle in rule.needles:
                owners.setdefault(needle.lower(), []).append(idx)
        self.automaton = ahocorasick.Automaton()
        for needle, idxs in owners.items():
            word_start = needle[0].isalpha()
            self.automaton.add_word(needle, (word_start, len(needle), tuple(idxs)))
        self.automaton.make_automaton()
        self.unanchored = [idx for idx, rule in enumerate(rules) if not rule.needles]

    def positions(self, text: str) -> dict[int, list[int]]:
        """Rule index -> ascending start positions of its needles in `text` (lower case).

        A needle that starts with a letter is skipped inside a longer word ("ai" in "said"): such
        needles always start a word in the rules' patterns.
        """
        hits: dict[int, list[int]] = {idx: [-1] for idx in self.unanchored}  # -1: try everywhere
        for end, (word_start, length, idxs) in self.automaton.iter(text):
            start = end - length + 1
            if word_start and start and text[start - 1].isalpha():
                continue
            for idx in idxs:
                hits.setdefault(idx, []).append(start)
        return hits


_BOUNDARY = re.compile(r"\b\w|[^\w\s]|\n")


@lru_cache(maxsize=2)
def _anchors(indirect: bool = True) -> _Anchors:
    return _Anchors(RULES, indirect)


def _find(rule: Rule, text: str, anchors: list[int]) -> re.Match[str] | None:
    """A match of `rule` starting at a token boundary at most `rule.back` characters before an anchor."""
    pattern = rule.pattern
    if anchors and anchors[0] < 0:
        return pattern.search(text)
    if pattern.pattern.startswith("^"):  # anchored at the start of the text
        return pattern.match(text) if anchors[0] <= rule.back else None
    if rule.back == 0:  # the anchor is where a match starts
        for pos in anchors:
            m = pattern.match(text, pos)
            if m is not None:
                return m
        return None
    tried = -1  # boundaries are tried in ascending order, each once
    for pos in anchors:
        lo = max(pos - rule.back, tried + 1)
        if lo > pos:
            continue
        for b in _BOUNDARY.finditer(text, lo, pos + 1):
            m = pattern.match(text, b.start())
            if m is not None:
                return m
        if pos == 0 or not text[pos - 1].isalnum():
            m = pattern.match(text, pos)  # the anchor itself, when it follows a space
            if m is not None:
                return m
        tried = pos
    return None


# Early exit: once the hits found so far combine to this score, the verdict cannot change (it is
# above BLOCK and the noisy-OR only grows), so the remaining rules are not tried. This bounds the
# work on long jailbreak prompts, which trip many rules; the reasons then list the first hits only.
STOP_AT = 0.97


def match_rules(views: Sequence[View], raw: str, *, indirect: bool = False,
                stop_at: float = STOP_AT) -> list[RuleHit]:
    """The strongest hit of every rule over all views (the plain view wins ties: it is not hidden).

    Stops early once the hits reach `stop_at` (pass 1.0 to collect every hit).
    """
    best: dict[str, RuleHit] = {}
    keep = 1.0
    anchors = _anchors(indirect)
    found = {v.text: anchors.positions(v.text) for v in views}
    lowered = raw.lower()
    raw_found = anchors.positions(lowered) if len(lowered) == len(raw) else None
    raw_view = View("raw", raw)
    for idx, rule in enumerate(RULES):
        if rule.indirect and not indirect:
            continue
        targets = [raw_view] if rule.raw else views
        for view in targets:
            if rule.raw:
                positions = raw_found.get(idx) if raw_found is not None else [-1]
            else:
                positions = found[view.text].get(idx)
            if not positions or (rule.gate is not None and rule.gate.search(view.text) is None):
                continue
            m = _find(rule, view.text, positions)
            if m is None:
                continue
            hit = RuleHit(rule, view.name, _snippet(view.text, m), view.hidden)
            prev = best.get(rule.id)
            if prev is None or hit.weight > prev.weight:
                best[rule.id] = hit
                keep *= (1.0 - hit.weight) / (1.0 - prev.weight) if prev is not None else 1.0 - hit.weight
            break  # first view that matches: views are ordered plain first
        if 1.0 - keep >= stop_at:
            break
    return sorted(best.values(), key=lambda h: -h.weight)


def _snippet(text: str, m: re.Match[str], width: int = 70) -> str:
    s = m.group(0).strip()
    return s if len(s) <= width else s[: width - 1] + "…"


def rule_score(hits: Sequence[RuleHit]) -> float:
    """Noisy-OR of the rule weights: independent pieces of evidence add up, never past 1."""
    keep = 1.0
    for h in hits:
        keep *= 1.0 - h.weight
    return 1.0 - keep
