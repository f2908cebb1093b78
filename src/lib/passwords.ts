/** The contract's password rules (Auth): shared by signup, reset, change and `npm run admin:create`. */
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;

/** Every rule the password breaks (empty when strong enough). */
export function passwordProblems(password: string): string[] {
  const problems: string[] = [];
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) problems.push(`Must be at least ${PASSWORD_MIN_LENGTH} characters long`);
  if (length > PASSWORD_MAX_LENGTH) problems.push(`Must be at most ${PASSWORD_MAX_LENGTH} characters long`);
  if (!/\p{Lu}/u.test(password)) problems.push("Must contain an uppercase letter");
  if (!/\p{Ll}/u.test(password)) problems.push("Must contain a lowercase letter");
  if (!/\p{Nd}/u.test(password)) problems.push("Must contain a digit");
  if (!/[^\p{L}\p{N}]/u.test(password)) problems.push("Must contain a special character");
  return problems;
}
