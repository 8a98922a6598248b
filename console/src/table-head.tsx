/**
 * A table's header row: one column header per name, in order, each scoped to its
 * column so that screen readers announce it with every cell below.
 */
export function TableHead({ columns }: { columns: readonly string[] }) {
  return (
    <thead>
      <tr>
        {columns.map((column) => (
          <th key={column} scope="col">
            {column}
          </th>
        ))}
      </tr>
    </thead>
  );
}
