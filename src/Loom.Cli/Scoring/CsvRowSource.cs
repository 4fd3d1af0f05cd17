using System.Globalization;
using System.Text;

namespace Loom.Cli.Scoring;

/// <summary>
/// Reads a CSV file with a header row (comma-separated, fields optionally in double quotes; a quoted
/// field may not span lines). A batch's lines are read in order, then parsed in parallel. Empty, NA
/// and NaN fields are missing values (NaN). A row with the wrong number of fields or a non-number in a
/// feature column is rejected (with <c>--skip-bad-rows</c>) or stops the run naming its row and line.
/// </summary>
internal sealed class CsvRowSource : IRowSource
{
    private readonly StreamReader _reader;
    private readonly string _name;
    private readonly bool _skipBad;
    private readonly long _length;
    private int[] _columnOf = [];
    private long _row;
    private string[] _lines = [];

    public CsvRowSource(string path, bool skipBadRows)
        : this(path, new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20), skipBadRows) { }

    /// <summary>Reads <paramref name="stream"/> (a header line, then rows), naming it <paramref name="name"/> in errors; the cluster passes one shard's lines this way.</summary>
    public CsvRowSource(string name, Stream stream, bool skipBadRows)
    {
        _name = name;
        _skipBad = skipBadRows;
        _length = Math.Max(1, stream.Length);
        _reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, 1 << 20);
        var header = _reader.ReadLine() ?? throw new InputException($"{name}: the file is empty (a header row is needed)");
        Columns = Split(header, out _) ?? throw new InputException($"{name}: line 1: the header has an unterminated quote");
    }

    public IReadOnlyList<string> Columns { get; }
    public long? TotalRows => null;
    public double Progress => Math.Min(1, (double)_reader.BaseStream.Position / _length);
    public long RowsRead => Volatile.Read(ref _row);

    public void Map(int[] columnOfFeature) => _columnOf = columnOfFeature;

    public bool Read(RowBatch batch)
    {
        int capacity = batch.Values.Length / Math.Max(1, _columnOf.Length);
        if (_lines.Length < capacity) _lines = new string[capacity];
        int n = 0;
        long firstRow = _row + 1;
        while (n < capacity && _reader.ReadLine() is { } line)
        {
            if (line.Length == 0) continue; // blank lines are not rows
            _lines[n++] = line;
        }
        Volatile.Write(ref _row, _row + n);
        batch.Rows = 0;
        batch.Rejected.Clear();
        if (n == 0) return false;
        var errors = new string?[n];
        int features = _columnOf.Length;
        Parallel.For(0, (n + 1023) / 1024, chunk =>
        {
            for (int i = chunk * 1024; i < Math.Min(n, chunk * 1024 + 1024); i++)
                errors[i] = Parse(_lines[i], batch.Values.AsSpan(i * features, features));
        });
        // Compact: drop rejected rows, keeping the order.
        int kept = 0;
        for (int i = 0; i < n; i++)
        {
            if (errors[i] is { } why)
            {
                long row = firstRow + i;
                if (!_skipBad) throw new InputException($"{_name}: row {row}: {why} (use --skip-bad-rows to write such rows to a reject file)");
                batch.Rejected.Add(new RejectedRow(row, why, _lines[i]));
                continue;
            }
            if (kept != i) batch.Values.AsSpan(i * features, features).CopyTo(batch.Values.AsSpan(kept * features, features));
            kept++;
        }
        batch.Rows = kept;
        return true;
    }

    /// <summary>Parses one line into the feature values; returns why it cannot, or null.</summary>
    private string? Parse(string line, Span<float> values)
    {
        var fields = Split(line, out int count);
        if (fields is null) return "unterminated quote";
        if (count != Columns.Count) return $"{count} fields, expected {Columns.Count}";
        for (int f = 0; f < _columnOf.Length; f++)
        {
            var text = fields[_columnOf[f]].AsSpan().Trim();
            if (text.Length == 0 || text is "NA" or "NaN" or "nan" or "null") { values[f] = float.NaN; continue; }
            if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out values[f]))
                return $"column '{Columns[_columnOf[f]]}' value '{text}' is not a number";
        }
        return null;
    }

    /// <summary>Splits a CSV line; null when a quote is not closed.</summary>
    private static string[]? Split(string line, out int count)
    {
        var fields = new List<string>();
        int i = 0;
        while (true)
        {
            if (i < line.Length && line[i] == '"')
            {
                var sb = new StringBuilder();
                i++;
                while (true)
                {
                    if (i >= line.Length) { count = 0; return null; }
                    if (line[i] == '"')
                    {
                        if (i + 1 < line.Length && line[i + 1] == '"') { sb.Append('"'); i += 2; continue; }
                        i++;
                        break;
                    }
                    sb.Append(line[i++]);
                }
                fields.Add(sb.ToString());
                while (i < line.Length && line[i] != ',') i++;
            }
            else
            {
                int comma = line.IndexOf(',', i);
                int end = comma < 0 ? line.Length : comma;
                fields.Add(line[i..end].TrimEnd('\r'));
                i = end;
            }
            if (i >= line.Length) break;
            i++; // the comma
            if (i == line.Length) { fields.Add(""); break; }
        }
        count = fields.Count;
        return fields.ToArray();
    }

    public void Dispose() => _reader.Dispose();
}
