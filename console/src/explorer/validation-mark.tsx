/**
 * A transaction's validation code as Fabric names it (`TxValidationCode` in
 * fabric-protos' transaction.proto), marked so that an invalid one stands out in words,
 * not by colour alone.
 */
export function ValidationMark({ name }: { name: string }) {
  const valid = name === 'VALID';
  return (
    <span className={valid ? 'validation valid' : 'validation invalid'} data-testid="validation">
      {valid ? 'valid' : `invalid: ${name}`}
    </span>
  );
}
