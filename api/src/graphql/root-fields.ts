import { Kind, type DocumentNode, type FieldNode, type SelectionSetNode } from 'graphql';

/**
 * The root fields an operation selects, through inline fragments and fragment spreads
 * (`{ ...F } fragment F on Query { agreement(id: …) }` selects `agreement`), in document
 * order. Introspection fields (`__typename`) included.
 *
 * Every fragment of a spread's name is followed: a document defining one twice fails
 * validation, which may not have run yet. A fragment already followed is not followed
 * again, so a cycle (also invalid) ends.
 */
export function rootFieldNodes(
  document: DocumentNode,
  selectionSet: SelectionSetNode,
  followed = new Set<string>(),
): FieldNode[] {
  return selectionSet.selections.flatMap((selection) => {
    if (selection.kind === Kind.FIELD) return [selection];
    if (selection.kind === Kind.INLINE_FRAGMENT) return rootFieldNodes(document, selection.selectionSet, followed);
    const name = selection.name.value;
    if (followed.has(name)) return [];
    followed.add(name);
    return document.definitions.flatMap((definition) =>
      definition.kind === Kind.FRAGMENT_DEFINITION && definition.name.value === name
        ? rootFieldNodes(document, definition.selectionSet, followed)
        : [],
    );
  });
}
