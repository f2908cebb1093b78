/**
 * The expertise taxonomy: the topics intercultural coaching is about, each
 * with the synonyms clients and coaches actually write ("culture shock",
 * "homesickness", "feeling isolated" ...). Client goals/challenges and coach
 * expertise/bio are mapped onto these topics; two texts that land on the same
 * topic match even when they share no word. Free text outside the taxonomy
 * still matches word by word (see lexical.ts).
 */
import { containsPhrase, PhraseIndex, stemSequence } from "./text.ts";

export const TOPICS = {
  cultural_adaptation: {
    label: "cultural adaptation",
    synonyms: [
      "cultural adaptation",
      "cultural integration",
      "integration",
      "integrate",
      "acculturation",
      "intercultural",
      "cross-cultural",
      "cross cultural",
      "cultural intelligence",
      "cultural awareness",
      "local culture",
      "local customs",
      "fit in",
      "fitting in",
      "adapt to",
      "adapting to",
      "adaptation",
      "adjust to a new culture",
      "cultural differences",
      "cultural norms",
    ],
  },
  culture_shock: {
    label: "culture shock",
    synonyms: [
      "culture shock",
      "homesick",
      "homesickness",
      "isolation",
      "isolated",
      "loneliness",
      "lonely",
      "adjustment",
      "overwhelmed",
      "feeling lost",
      "disoriented",
      "first move abroad",
      "first time abroad",
    ],
  },
  language: {
    label: "language and communication",
    synonyms: [
      "language barrier",
      "language learning",
      "learn the language",
      "learning the language",
      "language skills",
      "fluency",
      "accent",
      "speaking the language",
      "language",
      "intercultural communication",
      "communication skills",
      "misunderstandings",
      "miscommunication",
    ],
  },
  career: {
    label: "career development",
    synonyms: [
      "career",
      "career change",
      "career transition",
      "job search",
      "finding a job",
      "job hunting",
      "employment",
      "work permit",
      "professional network",
      "networking",
      "resume",
      "cv",
      "interview",
      "interviews",
      "promotion",
      "professional growth",
      "career development",
    ],
  },
  leadership: {
    label: "leadership",
    synonyms: [
      "leadership",
      "executive",
      "executives",
      "global leadership",
      "leading teams",
      "team leadership",
      "managing teams",
      "management",
      "manager",
      "managers",
      "leading multicultural teams",
      "executive presence",
      "c-suite",
      "senior leaders",
    ],
  },
  business_culture: {
    label: "business culture",
    synonyms: [
      "business culture",
      "business etiquette",
      "workplace culture",
      "work culture",
      "corporate culture",
      "negotiation",
      "negotiations",
      "doing business",
      "office politics",
      "international business",
      "global business",
      "workplace",
      "colleagues",
      "hierarchy",
    ],
  },
  family: {
    label: "family relocation",
    synonyms: [
      "family",
      "families",
      "family relocation",
      "children",
      "kids",
      "child",
      "parenting",
      "parents",
      "schools",
      "school",
      "spouse",
      "trailing spouse",
      "accompanying partner",
      "dual career",
      "dual-career",
      "expat family",
      "expat families",
      "moving with children",
    ],
  },
  relationships: {
    label: "intercultural relationships",
    synonyms: [
      "intercultural relationship",
      "intercultural relationships",
      "intercultural couple",
      "intercultural couples",
      "relationship",
      "relationships",
      "couple",
      "couples",
      "marriage",
      "dating",
      "in-laws",
    ],
  },
  repatriation: {
    label: "repatriation",
    synonyms: [
      "repatriation",
      "repatriate",
      "returning home",
      "return home",
      "moving back",
      "reverse culture shock",
      "re-entry",
      "reentry",
      "homecoming",
      "coming home",
    ],
  },
  relocation: {
    label: "relocation logistics",
    synonyms: [
      "relocation",
      "relocating",
      "relocate",
      "moving abroad",
      "move abroad",
      "moving to",
      "housing",
      "visa",
      "visas",
      "bureaucracy",
      "paperwork",
      "settling in",
      "logistics",
      "residence permit",
      "pre-departure",
      "preparing to move",
      "planning a move",
    ],
  },
  wellbeing: {
    label: "wellbeing and resilience",
    synonyms: [
      "wellbeing",
      "well-being",
      "stress",
      "anxiety",
      "resilience",
      "mental health",
      "burnout",
      "emotional",
      "self-care",
      "confidence",
      "self-confidence",
      "mindfulness",
      "coping",
    ],
  },
  social: {
    label: "building a social life",
    synonyms: [
      "social life",
      "making friends",
      "make friends",
      "friends",
      "friendship",
      "social network",
      "community",
      "belonging",
      "sense of belonging",
      "meeting people",
      "expat community",
    ],
  },
  identity: {
    label: "identity and third culture",
    synonyms: [
      "identity",
      "cultural identity",
      "third culture",
      "third culture kid",
      "third culture kids",
      "tck",
      "multicultural identity",
      "bicultural",
      "global nomad",
      "belonging nowhere",
      "rootlessness",
    ],
  },
  diplomacy: {
    label: "diplomatic life",
    synonyms: [
      "diplomat",
      "diplomats",
      "diplomatic",
      "diplomacy",
      "foreign service",
      "embassy",
      "consulate",
      "protocol",
      "international organization",
      "international organisation",
      "united nations",
      "ngo",
      "posting",
      "postings",
    ],
  },
  remote_work: {
    label: "remote work and nomad life",
    synonyms: [
      "digital nomad",
      "digital nomads",
      "nomad",
      "nomads",
      "remote work",
      "remote worker",
      "working remotely",
      "location independent",
      "freelance",
      "freelancer",
      "coworking",
    ],
  },
  education: {
    label: "study abroad",
    synonyms: [
      "student",
      "students",
      "study abroad",
      "studying abroad",
      "university",
      "exchange student",
      "academic",
      "international student",
      "international students",
      "graduate",
      "phd",
    ],
  },
  entrepreneurship: {
    label: "entrepreneurship",
    synonyms: [
      "entrepreneur",
      "entrepreneurs",
      "entrepreneurship",
      "startup",
      "start-up",
      "founder",
      "founders",
      "small business",
      "starting a business",
      "business setup",
      "self-employed",
    ],
  },
} as const;

export type TopicId = keyof typeof TOPICS;
export const TOPIC_IDS = Object.keys(TOPICS) as TopicId[];

const TOPIC_INDEX = new PhraseIndex<TopicId>(
  Object.fromEntries(TOPIC_IDS.map((topic) => [topic, TOPICS[topic].synonyms as readonly string[]])) as Record<
    TopicId,
    readonly string[]
  >,
);
const REVERSE_CULTURE_SHOCK = stemSequence("reverse culture shock");

/** The topics a text touches (phrase matches on stems). */
export function topicsOf(text: string): Set<TopicId> {
  const sequence = stemSequence(text);
  const found = TOPIC_INDEX.labelsIn(sequence);
  // "reverse culture shock" is repatriation, not culture shock on arrival.
  if (found.has("culture_shock") && containsPhrase(sequence, REVERSE_CULTURE_SHOCK)) {
    found.delete("culture_shock");
    found.add("repatriation");
  }
  return found;
}

/** Lower-cased synonym phrases of topics: the SQL pre-rank matches coach expertise entries against them. */
export function synonymPhrases(topics: Iterable<TopicId>): string[] {
  const phrases = new Set<string>();
  for (const topic of topics) for (const phrase of TOPICS[topic].synonyms) phrases.add(phrase);
  return [...phrases];
}

/** Vocabulary of the coaching styles (quiz factor 9), as a coach describes them in the bio. */
export const COACHING_STYLE_WORDS: Record<string, string[]> = {
  directive: [
    "directive",
    "action oriented",
    "action-oriented",
    "practical advice",
    "clear advice",
    "hands-on",
    "results driven",
    "results-driven",
    "concrete steps",
  ],
  collaborative: ["collaborative", "collaboration", "partnership", "co-create", "co-creating", "together", "co-design"],
  reflective: ["reflective", "reflection", "self-awareness", "self-reflection", "introspection", "mindful", "deep listening"],
  structured: [
    "structured",
    "structure",
    "step-by-step",
    "step by step",
    "framework",
    "frameworks",
    "roadmap",
    "milestones",
    "action plan",
  ],
  flexible: ["flexible", "adaptable", "tailored", "adaptive", "client-led", "open-ended"],
};

/** Vocabulary of the communication styles (quiz factor 15). */
export const COMMUNICATION_STYLE_WORDS: Record<string, string[]> = {
  direct: ["direct", "candid", "straightforward", "frank", "honest feedback", "no-nonsense", "straight talk"],
  indirect: ["gentle", "empathetic", "empathic", "patient", "diplomatic", "nuanced", "tactful", "compassionate"],
  mixed: ["balanced", "adaptable", "adapt my style", "flexible communication", "both direct"],
};

/** Industry words that mean the same field (quiz factor 4). */
export const INDUSTRY_SYNONYMS: Record<string, string[]> = {
  technology: ["technology", "tech", "software", "it", "engineering", "startup", "saas", "digital"],
  finance: ["finance", "financial", "banking", "bank", "investment", "fintech", "insurance", "accounting"],
  healthcare: ["healthcare", "health", "medical", "medicine", "hospital", "nursing", "pharma", "pharmaceutical"],
  education: ["education", "teaching", "teacher", "academic", "academia", "university", "school"],
  diplomacy: [
    "diplomacy",
    "diplomatic",
    "foreign service",
    "government",
    "public sector",
    "embassy",
    "international organization",
  ],
  consulting: ["consulting", "consultant", "advisory", "professional services"],
  energy: ["energy", "oil", "gas", "renewables", "mining"],
  ngo: ["ngo", "non-profit", "nonprofit", "humanitarian", "development sector", "charity"],
  legal: ["legal", "law", "lawyer", "attorney"],
  marketing: ["marketing", "advertising", "media", "communications", "pr"],
  manufacturing: ["manufacturing", "automotive", "industrial", "engineering"],
  hospitality: ["hospitality", "tourism", "hotel", "travel"],
};
