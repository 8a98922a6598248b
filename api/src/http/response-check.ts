import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsPlugin from 'ajv-formats';
import { ApiError } from '../errors/api-error.js';
import { successSchemaOf } from '../openapi/openapi.js';
import type { RouteSpec } from './route.js';

// ajv-formats is CommonJS with a default export; seen from an ES module it arrives as the module object.
const addFormats = addFormatsPlugin as unknown as typeof addFormatsPlugin.default;

/** Throws when a body is not what the route's OpenAPI operation says it answers. */
export type ResponseCheck = (body: unknown) => void;

let ajv: Ajv2020 | undefined;
/** Compiled validators by their schema's JSON: compiling is slow, and every test server declares the same schemas. */
const compiled = new Map<string, ValidateFunction>();

function validatorOf(schema: Record<string, unknown>): { validate: ValidateFunction; errorsText: () => string } {
  if (ajv === undefined) {
    ajv = new Ajv2020({ allErrors: false, strict: true });
    addFormats(ajv);
  }
  const compiler = ajv;
  const key = JSON.stringify(schema);
  let validate = compiled.get(key);
  if (validate === undefined) {
    validate = compiler.compile(schema);
    compiled.set(key, validate);
  }
  const found = validate;
  return { validate: found, errorsText: () => compiler.errorsText(found.errors) };
}

/**
 * A check of a route's success answer against the JSON Schema the OpenAPI document
 * declares for it, the body taken as it goes on the wire (through JSON). Used under
 * tests, so that the document cannot drift from what the server sends; the validator
 * is compiled on the route's first answer.
 *
 * @throws ApiError 500 RESPONSE_SCHEMA_MISMATCH naming the operation and the first fault.
 */
export function declaredResponseCheck(spec: RouteSpec): ResponseCheck {
  let validator: ReturnType<typeof validatorOf> | undefined;
  return (body) => {
    validator ??= validatorOf(successSchemaOf(spec));
    if (validator.validate(JSON.parse(JSON.stringify(body ?? null)))) return;
    throw new ApiError(
      500,
      'RESPONSE_SCHEMA_MISMATCH',
      `${spec.operationId} answered a body its declared response schema refuses: ${validator.errorsText()}`,
    );
  };
}
