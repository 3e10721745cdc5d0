"""Is a message the shopper switching suggestions off ("stop suggestions", "no more tips") or on?

Only a message that is nothing but that command counts: it must name the suggestions (suggest, tip,
nudge, recommendation, idea, hint...), say which way (stop / no more / turn off, or turn on /
again / resume), and leave at most a few other words ("please", "thanks", "from you"). So "don't
recommend anything red, show me blue dresses" stays a shopping request for the agents, and a
command costs no model call at all: the runtime answers it directly.

Plain patterns rather than embeddings on purpose: sentence embeddings barely see negation, and
"stop suggesting things" vs "suggest something" is exactly a negation.
"""

from __future__ import annotations

import re
from typing import Literal

Command = Literal["off", "on"]

_SUBJECT = re.compile(
    r"\b(suggest\w*|tips?|nudg\w*|recommend\w*|recs|ideas?|hints?|pop-?ups?|upsell\w*|proactive \w+|"
    r"unsolicited \w+)\b", re.I)
_OFF = re.compile(
    r"\b(stop|no more|no|don'?t|do not|dont|turn(ed)? (them |it |those |these )?off|switch(ed)? (them |it )?off|"
    r"disable|deactivate|enough( with)?|quit|mute|silence|pause|cut( out)?|without|opt out|unsubscribe|"
    r"leave me alone|not interested|off)\b", re.I)
_ON = re.compile(
    r"\b((turn|switch)\w* (\w+ ){0,2}(back )?on|back on|on again|enable|re-?enable|resume|opt in|bring (\w+ )?back|"
    r"again)\b|\bon\W*$", re.I)
_FILLER = {
    "please", "thanks", "thank", "you", "ok", "okay", "the", "a", "any", "your", "my", "me", "with", "from", "of",
    "for", "now", "all", "those", "these", "them", "it", "and", "i", "just", "giving", "give", "sending", "showing",
    "more", "can", "could", "would", "will", "be", "to", "us", "mate", "kindly", "hey", "hi", "sorry", "really",
    "product", "shopping", "stylist", "extra", "so", "many", "annoying", "nice", "unsolicited", "anymore",
    "need", "want", "like", "turn", "switch", "back", "up", "have", "is", "are", "im", "i'm",
}
_WORD = re.compile(r"[a-z']+")
MAX_WORDS = 12


def command(text: str) -> Command | None:
    """'off' or 'on' when the whole message is a suggestions switch, else None."""
    text = (text or "").strip().lower()
    if not text or len(text.split()) > MAX_WORDS:
        return None
    if not _SUBJECT.search(text):
        return None
    stripped = _SUBJECT.sub(" ", text)
    off = _OFF.search(stripped)
    on = _ON.search(stripped)
    if off and on:
        # "stop the tips again" is still off; "turn them back on" has no off word at all.
        direction: Command | None = "off"
    elif off:
        direction = "off"
    elif on:
        direction = "on"
    else:
        return None
    leftover = _OFF.sub(" ", _ON.sub(" ", stripped))
    words = [w for w in _WORD.findall(leftover) if w not in _FILLER]
    return direction if len(words) <= 2 else None


OFF_ACK = ("Got it: I'll stop suggesting things on my own. Ask me anytime for ideas, or say "
           "\"suggestions on\" to get tips again.")
ON_ACK = "Suggestions are back on: I'll point out things that go with your picks now and then."
