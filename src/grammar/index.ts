// Constrained output: GBNF grammars (gbnf.ts -> matcher.ts), JSON schemas compiled to GBNF
// (json-schema.ts), and the per-generation token mask (constraint.ts).
import { BitnetError } from '../errors.js';
import type { Tokenizer } from '../tokenizer/index.js';
import { GrammarConstraint } from './constraint.js';
import { jsonSchemaToGrammar } from './json-schema.js';
import { Grammar, grammarFor } from './matcher.js';

export { parseGBNF, type GrammarRules, type Element } from './gbnf.js';
export { Grammar, type MatchState } from './matcher.js';
export { GrammarConstraint, allowedTokens } from './constraint.js';
export { jsonSchemaToGrammar } from './json-schema.js';

export interface ConstraintOptions {
  /** GBNF text (llama.cpp's format; the start rule is `root`) or a Grammar from Grammar.parse(). */
  grammar?: string | Grammar;
  /** A JSON schema the output must validate against (compiled to a grammar). */
  jsonSchema?: object | boolean;
}

const schemaGrammars = new Map<string, Grammar>();

/** The constraint for one generation, or undefined when the options ask for none. */
export function constraintFor(opts: ConstraintOptions, tokenizer: Tokenizer): GrammarConstraint | undefined {
  if (opts.grammar === undefined && opts.jsonSchema === undefined) return undefined;
  if (opts.grammar !== undefined && opts.jsonSchema !== undefined) throw new BitnetError('BAD_ARGUMENT', 'pass grammar or jsonSchema, not both');
  let g: Grammar;
  if (opts.grammar !== undefined) g = grammarFor(opts.grammar);
  else {
    const key = JSON.stringify(opts.jsonSchema);
    g = schemaGrammars.get(key) ?? grammarFor(jsonSchemaToGrammar(opts.jsonSchema));
    schemaGrammars.set(key, g);
    if (schemaGrammars.size > 16) schemaGrammars.delete(schemaGrammars.keys().next().value!);
  }
  return new GrammarConstraint(g, tokenizer);
}
