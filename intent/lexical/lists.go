package lexical

// stop are function words and the filler agents write around a request;
// they say nothing about why.
var stop = set(`a an the and or but to of for in on at by with from into onto over under about
as is are be been being was were am it its this that these those there here than then so such
i me my mine we us our ours you your yours he him his she her hers they them their theirs
can could will would shall should may might must do does did done doing has have had having
need needs want wants please now today tonight tomorrow yesterday just also only very really
up out off all any some each every both either more most much many other another same own
what which who whom whose when where why how if else while because since until before after
let lets let's get gets got make makes sure ok okay going go goes one two
via per new next last first again still already well even ever
am pm etc e.g i.e`)

// synonyms fold common near-equivalents to one stem (applied after
// stemming). Kept small and general: it is not tuned to any evaluation set.
var synonyms = map[string]string{
	"email": "mail", "emails": "mail", "messag": "mail", "inbox": "mail", "mailbox": "mail",
	"summary": "summaris", "summaris": "summaris", "digest": "summaris", "recap": "summaris", "overview": "summaris",
	"meet": "meet", "meeting": "meet", "event": "meet", "appointment": "meet", "calendar": "calendar",
	"schedul": "schedul", "book": "book", "reserv": "book",
	"invoic": "invoic", "bill": "invoic", "payment": "pay", "paid": "pay",
	"pull": "pr", "pr": "pr", "chang": "pr", "patch": "pr", "diff": "pr",
	"review": "review", "comment": "comment", "feedback": "comment",
	"channel": "channel", "thread": "channel", "slack": "channel",
	"flight": "travel", "trip": "travel", "hotel": "travel", "fare": "travel",
	"reply": "reply", "respond": "reply", "respons": "reply", "answ": "reply", "answer": "reply",
	"updat": "inform", "inform": "inform", "brief": "inform", "notify": "inform",
}

// denyPhrases are instructions aimed at the checker or at the verifier: an
// honest intent never needs them. Matched on normalised text.
var denyPhrases = []string{
	"ignore previous", "ignore all previous", "ignore the previous", "ignore prior", "ignore the purpose",
	"ignore your instructions", "ignore the instructions", "ignore all instructions", "disregard the",
	"disregard previous", "disregard all", "system:", "system prompt", "[system]", "<system>",
	"you are now", "developer mode", "admin mode", "jailbreak", "answer allow", "respond allow",
	"return allow", "output allow", "verdict: allow", "verdict=allow", "label: allow", "must answer allow",
	"must allow", "override the", "override policy", "bypass the", "no need to check", "do not check",
	"pre-approved by", "already approved by", "authorised me to ignore", "authorized me to ignore",
}

func set(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range words(s) {
		m[w] = true
	}
	return m
}
