import { createHash } from 'node:crypto';
import fc from 'fast-check';
import type { LineageGraph } from '../model/provenance';
import { freelancer } from '../test-support/agreement-fixtures';
import { InMemoryLedger } from '../test-support/in-memory-ledger';
import { ProvenanceContract } from './provenance-contract';

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Records in registration order, each naming parents among the ones before it. */
const dagArbitrary = fc
  .integer({ min: 1, max: 12 })
  .chain((size) =>
    fc.tuple(
      ...Array.from({ length: size }, (_, index) =>
        index === 0
          ? fc.constant<number[]>([])
          : fc.uniqueArray(fc.integer({ min: 0, max: index - 1 }), { maxLength: Math.min(index, 3) }),
      ),
    ),
  );

/** Nodes within `depth` edges of `start`, following `next`, with their distance. */
function expectedReach(start: number, depth: number, next: (node: number) => number[]): Map<number, number> {
  const reached = new Map<number, number>([[start, 0]]);
  let frontier = [start];
  for (let distance = 1; distance <= depth && frontier.length > 0; distance += 1) {
    const following: number[] = [];
    for (const node of frontier) {
      for (const neighbour of next(node)) {
        if (!reached.has(neighbour)) {
          reached.set(neighbour, distance);
          following.push(neighbour);
        }
      }
    }
    frontier = following;
  }
  return reached;
}

describe('lineage graphs', () => {
  it('hold exactly the records within the depth, at their shortest distance, with every edge between them', async () => {
    await fc.assert(
      fc.asyncProperty(
        dagArbitrary,
        fc.nat(),
        fc.integer({ min: 1, max: 10 }),
        fc.constantFrom('ancestors' as const, 'descendants' as const),
        async (parentsOf, pick, depth, direction) => {
          const ledger = new InMemoryLedger();
          const contract = new ProvenanceContract();
          const name = (index: number) => `R-${index}`;
          for (const [index, parents] of parentsOf.entries()) {
            const request = {
              requestId: `req-lineage-${index}`,
              recordId: name(index),
              contentSha256: sha(name(index)),
              title: name(index),
              licence: { kind: 'spdx', expression: 'MIT' },
              source: 'generated',
              legalBasis: 'contract',
              piiClass: 'none',
              retention: { kind: 'period', period: 'P1Y' },
              ...(parents.length === 0
                ? {}
                : {
                    derivedFrom: {
                      parents: parents.map(name),
                      transformation: { description: 'step', codeSha256: sha('step') },
                    },
                  }),
            };
            await ledger.invoke(freelancer, (ctx) => contract.registerDataset(ctx, JSON.stringify(request)));
          }
          const childrenOf = (node: number) =>
            parentsOf.flatMap((parents, child) => (parents.includes(node) ? [child] : []));
          const start = pick % parentsOf.length;
          const next = direction === 'ancestors' ? (node: number) => parentsOf[node] ?? [] : childrenOf;
          const expected = expectedReach(start, depth, next);

          const graph: LineageGraph = await ledger.invoke(freelancer, (ctx) =>
            contract.getLineage(ctx, JSON.stringify({ recordId: name(start), direction, depth })),
          );
          expect(new Map(graph.nodes.map((node) => [node.recordId, node.distance]))).toEqual(
            new Map([...expected].map(([node, distance]) => [name(node), distance])),
          );
          const expectedEdges = [...expected.keys()]
            .filter((node) => (expected.get(node) ?? 0) < depth)
            .flatMap((node) =>
              next(node).map((neighbour) =>
                direction === 'ancestors' ? `${name(neighbour)}>${name(node)}` : `${name(node)}>${name(neighbour)}`,
              ),
            );
          expect(graph.edges.map((edge) => `${edge.from}>${edge.to}`).sort()).toEqual(expectedEdges.sort());
          const beyond = [...expected].some(([node, distance]) => distance === depth && next(node).length > 0);
          expect(graph.truncated).toBe(beyond);
        },
      ),
      { numRuns: 60 },
    );
  });
});
