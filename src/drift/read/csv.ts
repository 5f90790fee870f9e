/**
 * A streaming CSV reader (RFC 4180: quoted fields, doubled quotes, CRLF, line breaks inside quotes) that
 * hands over one record at a time, so a large current window never sits in memory as text. Quotes or a `\r`
 * ending a chunk are held back until the next one says what they mean.
 */
export class CsvStream {
  private field = '';
  private record: string[] = [];
  private quoted = false;
  private held = '';
  private first = true;
  private line = 1;
  private recordLine = 1;
  private readonly onRecord: (fields: string[], line: number) => void;

  constructor(onRecord: (fields: string[], line: number) => void) {
    this.onRecord = onRecord;
  }

  write(chunk: string): void {
    let text = this.held + chunk;
    this.held = '';
    if (this.first && text.length > 0) {
      this.first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    // A run of quotes (or a CR) at the end means nothing until the next character: keep it for then.
    let keep = text.length;
    if (text.charCodeAt(keep - 1) === 13) keep--;
    else while (keep > 0 && text.charCodeAt(keep - 1) === 34) keep--;
    this.held = text.slice(keep);
    this.parse(text.slice(0, keep));
  }

  end(): void {
    const rest = this.held;
    this.held = '';
    this.parse(rest);
    if (this.field !== '' || this.record.length > 0 || this.quoted) {
      this.record.push(this.field);
      this.field = '';
      this.quoted = false;
      this.emit();
    }
  }

  private parse(text: string): void {
    let field = this.field;
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (this.quoted) {
        if (c === 34) {
          field += text.slice(start, i);
          if (text.charCodeAt(i + 1) === 34) {
            field += '"';
            i++;
          } else this.quoted = false;
          start = i + 1;
        } else if (c === 10) this.line++;
        continue;
      }
      if (c === 44 || c === 10 || c === 13) {
        field += text.slice(start, i);
        this.record.push(field);
        field = '';
        start = i + 1;
        if (c !== 44) {
          if (c === 13 && text.charCodeAt(i + 1) === 10) {
            i++;
            start = i + 1;
          }
          this.emit();
          this.line++;
          this.recordLine = this.line;
        }
      } else if (c === 34 && field === '' && i === start) {
        this.quoted = true;
        start = i + 1;
      }
    }
    this.field = field + text.slice(start);
  }

  private emit(): void {
    const record = this.record;
    this.record = [];
    if (record.length === 1 && record[0] === '') return;
    this.onRecord(record, this.recordLine);
  }
}
