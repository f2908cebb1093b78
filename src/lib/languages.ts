/**
 * The fixed list of languages (English names) every validator shares: coach
 * languages, quiz `preferred_languages` and `languages_learning`, filters.
 * Input is matched case-insensitively and stored in the canonical spelling.
 */
export const LANGUAGES = [
  "Afrikaans", "Albanian", "Amharic", "Arabic", "Armenian", "Azerbaijani", "Basque", "Bengali",
  "Bosnian", "Bulgarian", "Burmese", "Cantonese", "Catalan", "Croatian", "Czech", "Danish",
  "Dutch", "English", "Estonian", "Filipino", "Finnish", "French", "Georgian", "German",
  "Greek", "Gujarati", "Haitian Creole", "Hausa", "Hebrew", "Hindi", "Hungarian", "Icelandic",
  "Igbo", "Indonesian", "Irish", "Italian", "Japanese", "Kannada", "Kazakh", "Khmer",
  "Korean", "Kurdish", "Lao", "Latvian", "Lithuanian", "Macedonian", "Malay", "Malayalam",
  "Maltese", "Mandarin Chinese", "Marathi", "Mongolian", "Nepali", "Norwegian", "Pashto", "Persian",
  "Polish", "Portuguese", "Punjabi", "Romanian", "Russian", "Serbian", "Sinhala", "Slovak",
  "Slovenian", "Somali", "Spanish", "Swahili", "Swedish", "Tagalog", "Tamil", "Telugu",
  "Thai", "Turkish", "Ukrainian", "Urdu", "Uzbek", "Vietnamese", "Welsh", "Xhosa",
  "Yoruba", "Zulu",
] as const;

export type Language = (typeof LANGUAGES)[number];

const BY_LOWER = new Map<string, Language>(LANGUAGES.map((language) => [language.toLowerCase(), language]));

/** Canonical spelling of a language name, or undefined when it is not on the list. */
export function canonicalLanguage(input: string): Language | undefined {
  return BY_LOWER.get(input.trim().toLowerCase().replace(/\s+/g, " "));
}
