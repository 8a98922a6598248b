import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsPlugin from 'ajv-formats';
import { ApiError } from '../errors/api-error.js';
import { successSchemaOf } from '../openapi/openapi.js';
import type { RouteSpec } from './route.js';

// ajv-formats is CommonJS with a default export; seen from an ES module it arrives as the module object.
const addFormats = addFormatsPlugin as unknown as typeof addFormatsPlugin.default;

/** Throws when a body is not what the route's OpenAPI operation says it answers. */
export type ResponseCheck = (body: unknown) => void;

/**
 * A check per route of its success answer against the JSON Schema the OpenAPI document
 * declares for it, the body taken as it goes on the wire (through JSON). Used under
 * tests, so that the document cannot drift from what the server sends.
 */
export function declaredResponseChecks(routes: readonly RouteSpec[]): Map<RouteSpec, ResponseCheck> {
  const ajv = new Ajv2020({ allErrors: false, strict: true });
  addFormats(ajv);
  return new Map(
    routes.map((spec) => {
      const validate = ajv.compile(successSchemaOf(spec));
      const check: ResponseCheck = (body) => {
        if (validate(JSON.parse(JSON.stringify(body ?? null)))) return;
        throw new ApiError(
          500,
          'RESPONSE_SCHEMA_MISMATCH',
          `${spec.operationId} answered a body its declared response schema refuses: ${ajv.errorsText(validate.errors)}`,
        );
      };
      return [spec, check];
    }),
  );
}
