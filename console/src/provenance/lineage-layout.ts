import dagre, { type EdgeLabel, type GraphLabel, type NodeLabel } from '@dagrejs/dagre';

/** A record in a lineage graph, as the API's LineageNode carries it. */
export interface LineageNodeInput {
  readonly recordId: string;
  readonly kind: string;
  readonly title: string;
}

/** A derivation, always from parent to child, as the API's LineageEdge carries it. */
export interface LineageEdgeInput {
  readonly from: string;
  readonly to: string;
  readonly relation: string;
}

/** A node placed on the drawing: its box's top-left corner and size, in SVG user units. */
export interface PlacedNode<N extends LineageNodeInput> {
  readonly node: N;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** An edge placed on the drawing: the points of its polyline, parent's side first. */
export interface PlacedEdge<E extends LineageEdgeInput> {
  readonly edge: E;
  readonly points: readonly { x: number; y: number }[];
}

export interface LineageLayout<N extends LineageNodeInput, E extends LineageEdgeInput> {
  readonly width: number;
  readonly height: number;
  readonly nodes: readonly PlacedNode<N>[];
  readonly edges: readonly PlacedEdge<E>[];
}

/** Box of one record on the drawing, in SVG user units (about 14 characters of title per line). */
export const nodeSize = { width: 220, height: 60 } as const;

/**
 * Two lineage answers (ancestors and descendants of one record) as one graph: each
 * record once, each derivation once (by parent, child and relation), in the order
 * first met. Edges whose ends are not both in the graph (cut off by the depth) are
 * dropped, since there is nothing to draw them to.
 */
export function mergeLineage<N extends LineageNodeInput, E extends LineageEdgeInput>(
  graphs: readonly { nodes: readonly N[]; edges: readonly E[] }[],
): { nodes: N[]; edges: E[] } {
  const nodes = new Map<string, N>();
  const edges = new Map<string, E>();
  for (const graph of graphs) {
    for (const node of graph.nodes) if (!nodes.has(node.recordId)) nodes.set(node.recordId, node);
  }
  for (const graph of graphs) {
    for (const edge of graph.edges) {
      const key = JSON.stringify([edge.from, edge.to, edge.relation]);
      if (nodes.has(edge.from) && nodes.has(edge.to) && !edges.has(key)) edges.set(key, edge);
    }
  }
  return { nodes: [...nodes.values()], edges: [...edges.values()] };
}

/**
 * Places a lineage graph left to right, parents before children, with dagre's layered
 * (Sugiyama) layout, which keeps edges short and crossings few.
 */
export function layoutLineage<N extends LineageNodeInput, E extends LineageEdgeInput>(
  nodes: readonly N[],
  edges: readonly E[],
): LineageLayout<N, E> {
  const graph = new dagre.graphlib.Graph<GraphLabel, NodeLabel, EdgeLabel>({ multigraph: true });
  graph.setGraph({ rankdir: 'LR', nodesep: 24, ranksep: 72, marginx: 12, marginy: 12 });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const node of nodes) graph.setNode(node.recordId, { width: nodeSize.width, height: nodeSize.height });
  edges.forEach((edge, index) => {
    graph.setEdge(edge.from, edge.to, {}, String(index));
  });
  dagre.layout(graph);
  const placedNodes = nodes.map((node) => {
    const placed = graph.node(node.recordId);
    // dagre gives each node's centre.
    return {
      node,
      x: (placed.x ?? 0) - nodeSize.width / 2,
      y: (placed.y ?? 0) - nodeSize.height / 2,
      width: nodeSize.width,
      height: nodeSize.height,
    };
  });
  const placedEdges = edges.map((edge, index) => ({
    edge,
    points: (graph.edge({ v: edge.from, w: edge.to, name: String(index) }).points ?? []).map((point) => ({
      x: point.x,
      y: point.y,
    })),
  }));
  const size = graph.graph();
  return {
    width: Math.ceil(size.width ?? nodeSize.width),
    height: Math.ceil(size.height ?? nodeSize.height),
    nodes: placedNodes,
    edges: placedEdges,
  };
}
