import { useEffect, useId, useMemo, useState } from 'react';

/** A JSON document to read, copy or save as a file. */
export function DocumentOutput({ label, fileName, document }: { label: string; fileName: string; document: unknown }) {
  const id = useId();
  const text = useMemo(() => JSON.stringify(document, null, 2), [document]);
  const [copied, setCopied] = useState(false);
  const href = useMemo(() => URL.createObjectURL(new Blob([text], { type: 'application/json' })), [text]);
  useEffect(
    () => () => {
      URL.revokeObjectURL(href);
    },
    [href],
  );
  return (
    <div className="document">
      <label htmlFor={id}>{label}</label>
      <textarea id={id} className="code-text" readOnly rows={10} value={text} spellCheck={false} />
      <div className="command">
        <button
          type="button"
          onClick={() => {
            void navigator.clipboard.writeText(text).then(() => {
              setCopied(true);
            });
          }}
        >
          Copy {label.replace(/^[A-Z](?=[a-z])/, (first) => first.toLowerCase())}
        </button>
        <a href={href} download={fileName}>
          Download {fileName}
        </a>
        {copied ? <span role="status">Copied.</span> : null}
      </div>
    </div>
  );
}
