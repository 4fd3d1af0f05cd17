using System.Globalization;
using System.Text;
using Parquet;
using Parquet.Schema;

namespace Loom.Cli.Scoring;

/// <summary>
/// A file written beside its final path and moved into place only by <see cref="Commit"/>: a run that
/// fails leaves no partial output (and no earlier file of that name is touched).
/// </summary>
internal sealed class AtomicFile(string path) : IDisposable
{
    private bool _committed;
    public string FinalPath { get; } = Path.GetFullPath(path);
    public string TempPath { get; } = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, "." + Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp");

    public void Commit()
    {
        File.Move(TempPath, FinalPath, overwrite: true);
        _committed = true;
    }

    public void Dispose()
    {
        if (!_committed && File.Exists(TempPath)) File.Delete(TempPath);
    }
}

/// <summary>One output column: a model output, or one column of a [N, K] output.</summary>
internal readonly record struct OutputColumn(string Name, int Output, int Index, int Width, DataType Type);

/// <summary>Writes each batch's model outputs as columns (a [N, K] output becomes NAME_0..NAME_K-1).</summary>
internal abstract class PredictionWriter : IDisposable
{
    protected OutputColumn[] Columns { get; private set; } = [];

    public static PredictionWriter Create(string path) =>
        Path.GetExtension(path).Equals(".parquet", StringComparison.OrdinalIgnoreCase) ? new ParquetPredictionWriter(path) : new CsvPredictionWriter(path);

    public void Write(IReadOnlyList<Tensor> outputs, int rows)
    {
        if (Columns.Length == 0) Columns = Describe(outputs);
        if (rows > 0) WriteRows(outputs, rows);
    }

    /// <summary>Names of the outputs, set before the first batch.</summary>
    public string[] OutputNames { get; set; } = [];

    private OutputColumn[] Describe(IReadOnlyList<Tensor> outputs)
    {
        var columns = new List<OutputColumn>();
        for (int o = 0; o < outputs.Count; o++)
        {
            var t = outputs[o];
            int width = t.Rank <= 1 ? 1 : (int)(ShapeMath.Size(t.Shape) / Math.Max(1, t.Dims[0]));
            string name = OutputNames.Length > o ? OutputNames[o] : $"output{o}";
            for (int k = 0; k < width; k++) columns.Add(new OutputColumn(width == 1 ? name : $"{name}_{k}", o, k, width, t.DataType));
        }
        return columns.ToArray();
    }

    protected abstract void WriteRows(IReadOnlyList<Tensor> outputs, int rows);

    /// <summary>Finishes the file and moves it into place.</summary>
    public abstract void Commit();

    public abstract void Dispose();
}

internal sealed class CsvPredictionWriter : PredictionWriter
{
    private readonly AtomicFile _file;
    private readonly StreamWriter _writer;
    private bool _header;

    public CsvPredictionWriter(string path)
    {
        _file = new AtomicFile(path);
        _writer = new StreamWriter(_file.TempPath, false, new UTF8Encoding(false), 1 << 20);
    }

    protected override void WriteRows(IReadOnlyList<Tensor> outputs, int rows)
    {
        if (!_header)
        {
            _writer.Write(string.Join(',', Columns.Select(c => Quote(c.Name))));
            _writer.Write('\n');
            _header = true;
        }
        Span<char> buffer = stackalloc char[64];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < Columns.Length; c++)
            {
                if (c > 0) _writer.Write(',');
                var col = Columns[c];
                var t = outputs[col.Output];
                int at = r * col.Width + col.Index;
                switch (col.Type)
                {
                    case DataType.Float:
                        t.AsReadOnlySpan<float>()[at].TryFormat(buffer, out int n, "R", CultureInfo.InvariantCulture);
                        _writer.Write(buffer[..n]);
                        break;
                    case DataType.Int64:
                        t.AsReadOnlySpan<long>()[at].TryFormat(buffer, out int m, default, CultureInfo.InvariantCulture);
                        _writer.Write(buffer[..m]);
                        break;
                    case DataType.String:
                        _writer.Write(Quote(t.AsReadOnlySpan<string>()[at]));
                        break;
                    default:
                        _writer.Write(t.GetDouble(at).ToString("R", CultureInfo.InvariantCulture));
                        break;
                }
            }
            _writer.Write('\n');
        }
    }

    private static string Quote(string s) => s.AsSpan().IndexOfAny(",\"\n\r") >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;

    public override void Commit()
    {
        _writer.Flush();
        _writer.Dispose();
        _file.Commit();
    }

    public override void Dispose()
    {
        _writer.Dispose();
        _file.Dispose();
    }
}

internal sealed class ParquetPredictionWriter(string path) : PredictionWriter
{
    private readonly AtomicFile _file = new(path);
    private FileStream? _stream;
    private ParquetWriter? _writer;
    private DataField[] _fields = [];

    protected override void WriteRows(IReadOnlyList<Tensor> outputs, int rows)
    {
        if (_writer is null)
        {
            _fields = Columns.Select(c => c.Type switch
            {
                DataType.Int64 => (DataField)new DataField<long>(c.Name),
                DataType.String => new DataField<string>(c.Name),
                _ => new DataField<float>(c.Name),
            }).ToArray();
            _stream = new FileStream(_file.TempPath, FileMode.CreateNew, FileAccess.ReadWrite);
            _writer = ParquetWriter.CreateAsync(new ParquetSchema(_fields), _stream, null, false, default).GetAwaiter().GetResult();
        }
        using var group = _writer.CreateRowGroup();
        for (int c = 0; c < Columns.Length; c++)
        {
            var col = Columns[c];
            var t = outputs[col.Output];
            switch (col.Type)
            {
                case DataType.Int64:
                    group.WriteAsync<long>(_fields[c], Gather(t.AsReadOnlySpan<long>(), rows, col), null, null, default).GetAwaiter().GetResult();
                    break;
                case DataType.String:
                    group.WriteAsync(_fields[c], Gather(t.AsReadOnlySpan<string>(), rows, col), null).GetAwaiter().GetResult();
                    break;
                default:
                    var floats = new float[rows];
                    for (int r = 0; r < rows; r++) floats[r] = (float)t.GetDouble(r * col.Width + col.Index);
                    group.WriteAsync<float>(_fields[c], floats, null, null, default).GetAwaiter().GetResult();
                    break;
            }
        }
    }

    private static T[] Gather<T>(ReadOnlySpan<T> data, int rows, OutputColumn col)
    {
        var r = new T[rows];
        for (int i = 0; i < rows; i++) r[i] = data[i * col.Width + col.Index];
        return r;
    }

    public override void Commit()
    {
        if (_writer is null) WriteEmpty();
        _writer!.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _stream!.Dispose();
        (_writer, _stream) = (null, null);
        _file.Commit();
    }

    /// <summary>No rows at all: still a valid file with the columns' schema.</summary>
    private void WriteEmpty()
    {
        _fields = (Columns.Length > 0 ? Columns.Select(c => c.Name) : ["prediction"]).Select(n => (DataField)new DataField<float>(n)).ToArray();
        _stream = new FileStream(_file.TempPath, FileMode.CreateNew, FileAccess.ReadWrite);
        _writer = ParquetWriter.CreateAsync(new ParquetSchema(_fields), _stream, null, false, default).GetAwaiter().GetResult();
    }

    public override void Dispose()
    {
        _writer?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _stream?.Dispose();
        _file.Dispose();
    }
}
