import {
  Kind,
  parse,
  type ArgumentNode,
  type ASTNode,
  type DirectiveNode,
  type DocumentNode,
  type GraphQLError,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';

const holds = (node: ASTNode, position: number): boolean =>
  node.loc !== undefined && node.loc.start <= position && position < node.loc.end;

/** The path within an argument's literal value down to `position`: `input.milestones.0.title`. */
function valuePath(value: ValueNode, position: number, path: string): string {
  if (value.kind === Kind.OBJECT) {
    const field = value.fields.find((candidate) => holds(candidate, position));
    return field === undefined ? path : valuePath(field.value, position, `${path}.${field.name.value}`);
  }
  if (value.kind === Kind.LIST) {
    const index = value.values.findIndex((item) => holds(item, position));
    return index < 0 ? path : valuePath(value.values[index] as ValueNode, position, `${path}.${String(index)}`);
  }
  return path;
}

/** The argument among `arguments` (and the path inside its literal) a document position falls in, if any. */
function argumentPathAmong(arguments_: readonly ArgumentNode[] | undefined, position: number): string | undefined {
  const argument = arguments_?.find((candidate) => holds(candidate, position));
  return argument === undefined ? undefined : valuePath(argument.value, position, argument.name.value);
}

/** The argument of a directive (`@include(if: …)`) a document position falls in, if any. */
function directiveArgumentPath(directives: readonly DirectiveNode[] | undefined, position: number): string | undefined {
  const directive = directives?.find((candidate) => holds(candidate, position));
  return directive === undefined ? undefined : argumentPathAmong(directive.arguments, position);
}

/** The argument (and the path inside its literal) a document position falls in, if any. */
function argumentPathAt(selections: SelectionSetNode | undefined, position: number): string | undefined {
  for (const selection of selections?.selections ?? []) {
    if (!holds(selection, position)) continue;
    const path =
      (selection.kind === Kind.FIELD ? argumentPathAmong(selection.arguments, position) : undefined) ??
      directiveArgumentPath(selection.directives, position);
    if (path !== undefined) return path;
    if (selection.kind !== Kind.FRAGMENT_SPREAD) return argumentPathAt(selection.selectionSet, position);
  }
  return undefined;
}

function parsedOrUndefined(body: string): DocumentNode | undefined {
  try {
    return parse(body);
  } catch {
    return undefined;
  }
}

/**
 * The request field a refused document names, as REST refusals name theirs: the argument
 * an error is about, with the path inside its literal (`decided`, `input.reason` for a
 * required input field left out, `input.milestones.0.amount`), read from graphql-js's
 * wording (graphql-js `validation/rules`) and the error's position in the document; for
 * any other error of the document (an unknown field, a parse error), `query`, the request
 * member holding the document.
 */
export function documentErrorField(error: GraphQLError): string {
  const named = /^Field "[^"]*" argument "(\w+)" of type "[^"]+" is required/.exec(error.message)?.[1];
  if (named !== undefined) return named;
  const unknown = /^Unknown argument "(\w+)"/.exec(error.message)?.[1];
  if (unknown !== undefined) return unknown;
  const body = error.source?.body;
  const document = body === undefined ? undefined : parsedOrUndefined(body);
  if (document === undefined) return 'query';
  // The first of the error's places that lies in an argument: a variable used where its
  // type does not fit is reported at its definition first, then at its use.
  for (const node of error.nodes ?? []) {
    const position = node.loc?.start;
    if (position === undefined) continue;
    const path = argumentPathIn(document, position);
    if (path === undefined) continue;
    // A required input field left out is reported at its object: name the field itself.
    const missing = /^Field "[^"]*\.(\w+)" of required type "[^"]+" was not provided/.exec(error.message)?.[1];
    return missing === undefined ? path : `${path}.${missing}`;
  }
  return 'query';
}

function argumentPathIn(document: DocumentNode, position: number): string | undefined {
  for (const definition of document.definitions) {
    if (!holds(definition, position)) continue;
    if (definition.kind !== Kind.OPERATION_DEFINITION && definition.kind !== Kind.FRAGMENT_DEFINITION) return undefined;
    // A variable's default stands for the value a request leaves out: named as that value is.
    const defaulted =
      definition.kind === Kind.OPERATION_DEFINITION
        ? definition.variableDefinitions?.find(
            (variable) => variable.defaultValue !== undefined && holds(variable.defaultValue, position),
          )
        : undefined;
    if (defaulted?.defaultValue !== undefined) {
      return valuePath(defaulted.defaultValue, position, `variables.${defaulted.variable.name.value}`);
    }
    return directiveArgumentPath(definition.directives, position) ?? argumentPathAt(definition.selectionSet, position);
  }
  return undefined;
}
