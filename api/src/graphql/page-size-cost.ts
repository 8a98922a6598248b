import { costLimitRule, type CostLimitOptions } from '@escape.tech/graphql-armor-cost-limit';
import { Kind, visit, type ASTNode, type FragmentDefinitionNode, type ValidationRule } from 'graphql';

/** The arguments graphql-armor's cost multiplies a list's cost by, when written as literals. */
const pageSizeArguments = new Set(['first', 'last']);

/** `node` with every literal `first`/`last` argument written as a variable of the same name. */
function withPageSizesAsVariables<Node extends ASTNode>(node: Node): Node {
  return visit(node, {
    Argument(argument) {
      if (!pageSizeArguments.has(argument.name.value) || argument.value.kind !== Kind.INT) return undefined;
      return { ...argument, value: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: argument.name.value } } };
    },
  });
}

/**
 * graphql-armor's cost limit, counting a list's page size the same whether the document
 * writes it as a literal or passes it as a variable. The limit multiplies a list's cost by
 * a literal `first` (the cost of a document is fixed before its variables are read), so a
 * page the schema allows (`proposalPage(first: 500)`) was refused when written in the
 * document and run when passed as `$first`, and a literal no Int can hold read as a costly
 * document rather than as the bad argument it is. The records one request may ask for are
 * bounded where they are read (see `claimLedgerRecords` and the index's page sizes), for
 * literals and variables alike; this limit bounds the document's shape.
 */
export function costOfShape(options: CostLimitOptions): ValidationRule {
  const rule = costLimitRule(options);
  return (context) => {
    const fragments = new Map<string, FragmentDefinitionNode | undefined>();
    const shaped = new Proxy(context, {
      get(target, property) {
        if (property === 'getFragment') {
          return (name: string) => {
            if (!fragments.has(name)) {
              const fragment = target.getFragment(name);
              fragments.set(
                name,
                fragment == null ? undefined : withPageSizesAsVariables<FragmentDefinitionNode>(fragment),
              );
            }
            return fragments.get(name);
          };
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const visitor = rule(shaped);
    return {
      OperationDefinition: {
        enter(operation) {
          visitor.onOperationDefinitionEnter(withPageSizesAsVariables(operation));
        },
      },
    };
  };
}
