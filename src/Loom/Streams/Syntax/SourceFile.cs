namespace Loom.Streams.Syntax;

/// <summary>A StreamIt source file: its name (as given, for messages) and text, with offset → line:column.</summary>
public sealed class SourceFile
{
    private readonly int[] _lineStarts;

    public SourceFile(string path, string text)
    {
        Path = path;
        Text = text;
        var starts = new List<int> { 0 };
        for (int i = 0; i < text.Length; i++)
            if (text[i] == '\n') starts.Add(i + 1);
        _lineStarts = starts.ToArray();
    }

    public string Path { get; }
    public string Text { get; }

    public static SourceFile Read(string path)
    {
        try { return new SourceFile(path, File.ReadAllText(path)); }
        catch (IOException e) { throw new StreamException($"{path}: cannot read the file: {e.Message}", e); }
        catch (UnauthorizedAccessException e) { throw new StreamException($"{path}: cannot read the file: {e.Message}", e); }
    }

    /// <summary>1-based line and column of a character offset (tabs count as one column, as in most editors' status bars).</summary>
    public (int Line, int Column) LineColumn(int offset)
    {
        offset = Math.Clamp(offset, 0, Text.Length);
        int line = Array.BinarySearch(_lineStarts, offset);
        if (line < 0) line = ~line - 1;
        return (line + 1, offset - _lineStarts[line] + 1);
    }
}

/// <summary>A place in a source file; <see cref="None"/> for things made by the compiler.</summary>
public readonly record struct SourceSpan(SourceFile? File, int Start, int Length)
{
    public static readonly SourceSpan None = new(null, 0, 0);

    public override string ToString()
    {
        if (File is null) return "<generated>";
        var (line, col) = File.LineColumn(Start);
        return $"{File.Path}:{line}:{col}";
    }

    /// <summary>An error at this place: "file:line:column: message".</summary>
    public StreamException Error(string message) => new($"{this}: {message}");
}
