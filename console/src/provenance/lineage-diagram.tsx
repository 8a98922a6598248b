import { useEffect, useId, useMemo, useRef, type MouseEvent } from 'react';
import { useLocation, useRouter } from 'wouter';
import { layoutLineage, type LineageEdgeInput, type LineageNodeInput } from './lineage-layout.js';

/** How a relation reads in words, child first: a dataset is derived from its parents, a model trained on datasets. */
const relationWords: Record<string, string> = { derivedFrom: 'is derived from', trainedOn: 'is trained on' };

/** The page of one provenance record, inside the console's routes. */
export function recordPath(recordId: string): string {
  return `/provenance/${encodeURIComponent(recordId)}`;
}

/** Space kept free inside a box's border, in SVG user units. */
const boxPadding = 10;

/**
 * A lineage graph drawn as a picture: one box per record, one arrow per derivation
 * (parent → child; dashed for a model trained on a dataset), laid out left to right.
 * Each box is a link to its record, reachable by keyboard and named for screen readers;
 * the same graph is also given as text (each derivation in a sentence) and tied to the
 * drawing with aria-describedby.
 */
export function LineageDiagram({
  root,
  nodes,
  edges,
}: {
  root: string;
  nodes: readonly LineageNodeInput[];
  edges: readonly LineageEdgeInput[];
}) {
  const layout = useMemo(() => layoutLineage(nodes, edges), [nodes, edges]);
  const [, navigate] = useLocation();
  const { base } = useRouter();
  const textId = useId();
  // useId's characters are not all allowed in a url(#…) reference.
  const markerId = `arrow${useId().replace(/[^A-Za-z0-9_-]/g, '')}`;
  const titleOf = new Map(nodes.map((node) => [node.recordId, node.title]));
  const picture = useRef<HTMLDivElement>(null);
  // A picture wider than the screen scrolls in its own box (its caption stays put below):
  // bring the record this page is about into view there, rather than leave it past the edge.
  useEffect(() => {
    const box = picture.current;
    const current = box?.querySelector<SVGGraphicsElement>('a[aria-current="page"]');
    if (box == null || current == null) return;
    const [boxLeft, nodeBox] = [box.getBoundingClientRect().left, current.getBoundingClientRect()];
    box.scrollLeft += nodeBox.left - boxLeft - (box.clientWidth - nodeBox.width) / 2;
  }, [layout, root]);
  const open = (recordId: string) => (event: MouseEvent) => {
    // A full page load would lose the in-memory session: stay in the page.
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    event.preventDefault();
    navigate(recordPath(recordId));
  };
  return (
    <figure className="lineage">
      <div className="lineage-scroll" ref={picture}>
        <svg
          role="group"
          aria-label={`Lineage diagram: ${String(nodes.length)} records, ${String(edges.length)} derivations`}
          aria-describedby={textId}
          viewBox={`0 0 ${String(layout.width)} ${String(layout.height)}`}
          width={layout.width}
          height={layout.height}
          data-testid="lineage-diagram"
        >
          <defs>
            <marker
              id={markerId}
              viewBox="0 0 10 10"
              refX="10"
              refY="5"
              markerWidth="8"
              markerHeight="8"
              orient="auto-start-reverse"
            >
              <path d="M 0 0 L 10 5 L 0 10 z" className="lineage-arrow" />
            </marker>
          </defs>
          {layout.edges.map(({ edge, points }) => (
            <path
              key={`${edge.from}>${edge.to}>${edge.relation}`}
              className={`lineage-edge ${edge.relation}`}
              data-from={edge.from}
              data-to={edge.to}
              data-relation={edge.relation}
              d={points
                .map((point, index) => `${index === 0 ? 'M' : 'L'} ${String(point.x)} ${String(point.y)}`)
                .join(' ')}
              markerEnd={`url(#${markerId})`}
              aria-hidden="true"
            />
          ))}
          {layout.nodes.map(({ node, x, y, width, height }) => (
            <a
              key={node.recordId}
              href={`${base}${recordPath(node.recordId)}`}
              onClick={open(node.recordId)}
              className={node.recordId === root ? 'lineage-node root' : 'lineage-node'}
              data-record-id={node.recordId}
              aria-current={node.recordId === root ? 'page' : undefined}
            >
              <rect x={x} y={y} width={width} height={height} rx="6" />
              {/* HTML lines: the browser cuts a long one with an ellipsis at the box's border,
                whatever its letters' widths, and the link's name (its text) stays whole. */}
              <foreignObject
                x={x + boxPadding}
                y={y + boxPadding / 2}
                width={width - 2 * boxPadding}
                height={height - boxPadding}
              >
                <div className="lineage-line lineage-title" title={node.title}>
                  {node.title}
                </div>{' '}
                <div className="lineage-line lineage-id">
                  {node.kind} {node.recordId}
                </div>
              </foreignObject>
            </a>
          ))}
        </svg>
      </div>
      <figcaption>
        <div id={textId} className="visually-hidden">
          {edges.length === 0 ? (
            <p>No derivations: the record stands alone.</p>
          ) : (
            <ul>
              {edges.map((edge) => (
                <li key={`${edge.from}>${edge.to}>${edge.relation}`}>
                  {titleOf.get(edge.to) ?? edge.to} ({edge.to}) {relationWords[edge.relation] ?? edge.relation}{' '}
                  {titleOf.get(edge.from) ?? edge.from} ({edge.from})
                </li>
              ))}
            </ul>
          )}
        </div>
        <span className="hint">
          Parents on the left, what was made from them on the right; a dashed arrow is training.
        </span>
      </figcaption>
    </figure>
  );
}
