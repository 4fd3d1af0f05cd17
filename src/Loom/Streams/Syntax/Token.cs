namespace Loom.Streams.Syntax;

public enum TokenKind
{
    End, Identifier, Keyword, IntLiteral, FloatLiteral, StringLiteral, CharLiteral, Punct,
}

/// <summary>One token. <see cref="Text"/> is the source text (for punctuation and keywords, the symbol itself).</summary>
public sealed record Token(TokenKind Kind, string Text, SourceSpan Span)
{
    /// <summary>Value of an integer literal (already wrapped to 32 bits, as Java's int literals written in hex).</summary>
    public long IntValue { get; init; }
    public double FloatValue { get; init; }
    /// <summary>A float literal written with a trailing d/D (a double); otherwise float.</summary>
    public bool IsDouble { get; init; }
    /// <summary>Decoded value of a string or char literal.</summary>
    public string? StringValue { get; init; }

    public bool Is(string punctOrKeyword) => (Kind == TokenKind.Punct || Kind == TokenKind.Keyword) && Text == punctOrKeyword;

    public string Describe() => Kind switch
    {
        TokenKind.End => "end of file",
        TokenKind.StringLiteral => "a string",
        _ => $"'{Text}'",
    };
}
