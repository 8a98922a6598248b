import type { Context } from 'fabric-contract-api';
import { maxLineageNodes, type LineageGraph, type ProvenanceRecord } from '../../model/provenance';
import { readChildren, requireProvenanceRecord, type ChildEdge } from './store';

type Edge = LineageGraph['edges'][number];
type Node = LineageGraph['nodes'][number];

/** The parents a record names, with how it was made from each. */
function parentEdges(record: ProvenanceRecord): { parentId: string; edge: ChildEdge }[] {
  const edges: { parentId: string; edge: ChildEdge }[] = [];
  if (record.derivedFrom !== undefined) {
    const { parents, transformation } = record.derivedFrom;
    for (const parentId of parents) edges.push({ parentId, edge: { relation: 'derivedFrom', transformation } });
  }
  if (record.kind === 'model') {
    for (const parentId of record.trainedOn) {
      if (!record.derivedFrom?.parents.includes(parentId)) edges.push({ parentId, edge: { relation: 'trainedOn' } });
    }
  }
  return edges;
}

function nodeOf(record: ProvenanceRecord, distance: number): Node {
  return {
    recordId: record.recordId,
    kind: record.kind,
    title: record.title,
    contentSha256: record.contentSha256,
    controller: record.controller,
    distance,
  };
}

/**
 * A record's ancestors or descendants, breadth first, as nodes and parent→child edges.
 * Ancestors are read from the records' own parent lists, descendants from the child
 * index (one key per edge), so the walk reads only the keys of the graph it returns.
 * Stops at `depth` edges or {@link maxLineageNodes} nodes and says so.
 *
 * @throws RefusalError NOT_FOUND when the record does not exist.
 */
export async function readLineage(
  ctx: Context,
  request: { recordId: string; direction: 'ancestors' | 'descendants'; depth: number },
): Promise<LineageGraph> {
  const root = await requireProvenanceRecord(ctx, request.recordId);
  const nodes = new Map<string, Node>([[root.recordId, nodeOf(root, 0)]]);
  const edges: Edge[] = [];
  let frontier: ProvenanceRecord[] = [root];
  let truncated = false;
  for (let distance = 1; frontier.length > 0; distance += 1) {
    const next: ProvenanceRecord[] = [];
    for (const record of frontier) {
      const neighbours =
        request.direction === 'ancestors'
          ? parentEdges(record).map(({ parentId, edge }) => ({
              id: parentId,
              from: parentId,
              to: record.recordId,
              edge,
            }))
          : (await readChildren(ctx, record.recordId)).map(({ childId, edge }) => ({
              id: childId,
              from: record.recordId,
              to: childId,
              edge,
            }));
      if (distance > request.depth) {
        if (neighbours.length > 0) truncated = true;
        continue;
      }
      for (const neighbour of neighbours) {
        if (!nodes.has(neighbour.id)) {
          if (nodes.size >= maxLineageNodes) {
            truncated = true;
            continue;
          }
          const found = await requireProvenanceRecord(ctx, neighbour.id);
          nodes.set(found.recordId, nodeOf(found, distance));
          next.push(found);
        }
        edges.push({
          from: neighbour.from,
          to: neighbour.to,
          relation: neighbour.edge.relation,
          ...(neighbour.edge.transformation === undefined ? {} : { transformation: neighbour.edge.transformation }),
        });
      }
    }
    frontier = distance > request.depth ? [] : next;
  }
  return {
    root: root.recordId,
    direction: request.direction,
    depth: request.depth,
    nodes: [...nodes.values()],
    edges,
    truncated,
  };
}
