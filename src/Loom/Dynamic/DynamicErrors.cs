namespace Loom.Dynamic;

/// <summary>A tree, lattice or other input file that does not follow its format; the message names the file, line and column.</summary>
public sealed class DataFormatException : LoomException
{
    public DataFormatException(string file, int line, int column, string what)
        : base(column > 0 ? $"{file}:{line}:{column}: {what}" : $"{file}:{line}: {what}")
    {
        File = file;
        Line = line;
    }

    public string File { get; }
    public int Line { get; }
}
