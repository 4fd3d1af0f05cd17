using Parquet;
using Parquet.Schema;

namespace Loom.Cli.Scoring;

/// <summary>
/// Reads a Parquet file row group by row group (a group's feature columns are held in memory while its
/// rows are handed out in batches). Numeric and boolean columns become float32; nulls are NaN.
/// </summary>
internal sealed class ParquetRowSource : IRowSource
{
    private readonly ParquetReader _reader;
    private readonly string _name;
    private readonly DataField[] _fields;
    private int[] _columnOf = [];
    private int _group = -1;
    private float[][] _columns = [];
    private int _groupRows, _at;
    private long _consumed;

    private readonly int _endGroup;

    /// <summary>Reads row groups [<paramref name="firstGroup"/>, <paramref name="firstGroup"/> + <paramref name="groupCount"/>) (all by default; the cluster reads one shard's groups).</summary>
    public ParquetRowSource(string path, int firstGroup = 0, int groupCount = int.MaxValue)
    {
        _name = path;
        _group = firstGroup - 1;
        try { _reader = ParquetReader.CreateAsync(File.OpenRead(path), null, false, default).GetAwaiter().GetResult(); }
        catch (Exception e) when (e is not LoomException) { throw new InputException($"{path}: not a readable Parquet file: {e.Message}"); }
        _fields = _reader.Schema.GetDataFields();
        Columns = _fields.Select(f => f.Name).ToArray();
        _endGroup = (int)Math.Min(_reader.RowGroupCount, (long)firstGroup + groupCount);
        TotalRows = firstGroup == 0 && _endGroup == _reader.RowGroupCount ? _reader.Metadata?.NumRows : null;
    }

    public IReadOnlyList<string> Columns { get; }
    public long? TotalRows { get; }
    public double Progress => TotalRows is > 0 ? (double)Volatile.Read(ref _consumed) / TotalRows.Value : 0;
    public long RowsRead => Volatile.Read(ref _consumed);

    public void Map(int[] columnOfFeature)
    {
        foreach (int c in columnOfFeature.Distinct())
            if (ToFloats(_fields[c]) is null) throw new InputException($"{_name}: column '{_fields[c].Name}' is {_fields[c].ClrType.Name}; features must be numbers or booleans");
        _columnOf = columnOfFeature;
    }

    public bool Read(RowBatch batch)
    {
        int features = _columnOf.Length, capacity = batch.Values.Length / Math.Max(1, features);
        batch.Rows = 0;
        batch.Rejected.Clear();
        while (_at >= _groupRows)
        {
            if (++_group >= _endGroup) return false;
            LoadGroup();
        }
        int n = Math.Min(capacity, _groupRows - _at);
        for (int r = 0; r < n; r++)
            for (int f = 0; f < features; f++)
                batch.Values[r * features + f] = _columns[f][_at + r];
        _at += n;
        Volatile.Write(ref _consumed, _consumed + n);
        batch.Rows = n;
        return true;
    }

    private void LoadGroup()
    {
        using var group = _reader.OpenRowGroupReader(_group);
        _groupRows = checked((int)group.RowCount);
        _at = 0;
        var byColumn = new Dictionary<int, float[]>();
        _columns = _columnOf.Select(c => byColumn.TryGetValue(c, out var v) ? v : byColumn[c] = ToFloats(_fields[c])!(group, _groupRows)).ToArray();
    }

    /// <summary>A reader of one column of a row group as floats, or null for a type that is not numeric.</summary>
    private static Func<ParquetRowGroupReader, int, float[]>? ToFloats(DataField f)
    {
        var t = f.ClrType;
        if (t == typeof(float)) return Read<float>(f, v => v);
        if (t == typeof(double)) return Read<double>(f, v => (float)v);
        if (t == typeof(long)) return Read<long>(f, v => v);
        if (t == typeof(int)) return Read<int>(f, v => v);
        if (t == typeof(short)) return Read<short>(f, v => v);
        if (t == typeof(byte)) return Read<byte>(f, v => v);
        if (t == typeof(sbyte)) return Read<sbyte>(f, v => v);
        if (t == typeof(bool)) return Read<bool>(f, v => v ? 1 : 0);
        if (t == typeof(decimal)) return Read<decimal>(f, v => (float)v);
        return null;
    }

    private static Func<ParquetRowGroupReader, int, float[]> Read<T>(DataField f, Func<T, float> convert) where T : struct => (group, rows) =>
    {
        var result = new float[rows];
        if (f.IsNullable)
        {
            var values = new T?[rows];
            group.ReadAsync<T>(f, values.AsMemory(), null, default).AsTask().GetAwaiter().GetResult();
            for (int i = 0; i < rows; i++) result[i] = values[i] is { } v ? convert(v) : float.NaN;
        }
        else
        {
            var values = new T[rows];
            group.ReadAsync<T>(f, values.AsMemory(), null, default).AsTask().GetAwaiter().GetResult();
            for (int i = 0; i < rows; i++) result[i] = convert(values[i]);
        }
        return result;
    };

    public void Dispose() => _reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
}
