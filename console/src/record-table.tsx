import { useId, type ReactNode } from 'react';
import { TableHead } from './table-head.js';

/**
 * A captioned table of records: a header per column and a row per record, keyed by
 * `rowKey`, whose cells (`<td>`s in column order) `children` gives. `empty` fills a row
 * spanning every column when there is no record; without it the body stays empty.
 * `rowTestId` marks each row for the browser tests, as a name or per record. A table
 * wider than the page scrolls sideways in its own box (a keyboard reaches it, named by its
 * caption), so a narrow screen neither scrolls the whole page nor breaks words and
 * amounts inside cells.
 */
export function RecordTable<Row>({
  caption,
  hiddenCaption = false,
  columns,
  rows,
  rowKey,
  rowTestId,
  empty,
  children,
}: {
  caption: ReactNode;
  hiddenCaption?: boolean;
  columns: readonly string[];
  rows: readonly Row[];
  rowKey: (row: Row, index: number) => string;
  rowTestId?: string | ((row: Row) => string);
  empty?: ReactNode;
  children: (row: Row) => ReactNode;
}) {
  const captionId = useId();
  return (
    <div className="table-scroll" role="region" aria-labelledby={captionId} tabIndex={0}>
      <table>
        <caption id={captionId} className={hiddenCaption ? 'visually-hidden' : undefined}>
          {caption}
        </caption>
        <TableHead columns={columns} />
        <tbody>
          {rows.length === 0 && empty !== undefined ? (
            <tr>
              <td colSpan={columns.length}>{empty}</td>
            </tr>
          ) : (
            rows.map((row, index) => (
              <tr key={rowKey(row, index)} data-testid={typeof rowTestId === 'function' ? rowTestId(row) : rowTestId}>
                {children(row)}
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}
