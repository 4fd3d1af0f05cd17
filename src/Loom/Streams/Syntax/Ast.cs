using System.Collections.Immutable;

namespace Loom.Streams.Syntax;

// The syntax tree of StreamIt source, as written (no types resolved). Every node knows its place in the file.

public abstract record SyntaxNode(SourceSpan Span);

// ---- types ----
public abstract record TypeSyntax(SourceSpan Span) : SyntaxNode(Span);
/// <summary>A primitive (int, float, …), struct or typedef name.</summary>
public sealed record NamedTypeSyntax(string Name, SourceSpan Span) : TypeSyntax(Span);
/// <summary><c>T[d0][d1]…</c>: the first size is the outermost index.</summary>
public sealed record ArrayTypeSyntax(TypeSyntax Element, ImmutableArray<Expr> Sizes, SourceSpan Span) : TypeSyntax(Span);
/// <summary><c>portal&lt;Target&gt;</c> (teleport messaging).</summary>
public sealed record PortalTypeSyntax(string Target, SourceSpan Span) : TypeSyntax(Span);

public sealed record StreamTypeSyntax(TypeSyntax Input, TypeSyntax Output, SourceSpan Span) : SyntaxNode(Span);

// ---- declarations ----
public sealed record Param(TypeSyntax Type, string Name, SourceSpan Span) : SyntaxNode(Span);

public abstract record Decl(SourceSpan Span) : SyntaxNode(Span);
public sealed record StructDecl(string Name, ImmutableArray<VarDeclStmt> Fields, SourceSpan Span) : Decl(Span);
public sealed record TypedefDecl(TypeSyntax Type, string Name, SourceSpan Span) : Decl(Span);
/// <summary>A <c>static { … }</c> block: global constants and their <c>init</c>.</summary>
public sealed record StaticDecl(ImmutableArray<VarDeclStmt> Fields, BlockStmt? Init, SourceSpan Span) : Decl(Span);
public sealed record FunctionDecl(TypeSyntax ReturnType, string Name, ImmutableArray<Param> Params, BlockStmt Body, bool IsHandler, SourceSpan Span) : Decl(Span);

public enum StreamKind { Filter, Pipeline, SplitJoin, FeedbackLoop }

/// <summary>
/// A filter, pipeline, splitjoin or feedbackloop. <see cref="Name"/> is null for an anonymous stream written
/// inline after <c>add</c>, <c>body</c> or <c>loop</c>; its type may then be omitted (inferred from its parts).
/// </summary>
public sealed record StreamDecl(
    StreamKind Kind, StreamTypeSyntax? Type, string? Name, ImmutableArray<Param> Params, bool Stateful,
    BlockStmt? Body, FilterBody? Filter, SourceSpan Span) : Decl(Span)
{
    public string DisplayName => Name ?? $"anonymous {Kind.ToString().ToLowerInvariant()} at {Span}";
}

public sealed record FilterBody(
    ImmutableArray<VarDeclStmt> Fields, BlockStmt? Init, WorkDecl? Prework, WorkDecl? Work,
    ImmutableArray<FunctionDecl> Functions, SourceSpan Span) : SyntaxNode(Span);

/// <summary>A declared rate: a fixed expression, <c>*</c> (all null), or a range <c>[min, avg, max]</c> whose parts may be <c>*</c>.</summary>
public sealed record RateSyntax(Expr? Min, Expr? Average, Expr? Max, bool IsRange, SourceSpan Span) : SyntaxNode(Span);

public sealed record WorkDecl(RateSyntax? Push, RateSyntax? Pop, RateSyntax? Peek, BlockStmt Body, bool IsPrework, SourceSpan Span) : SyntaxNode(Span);

public sealed record ProgramSyntax(ImmutableArray<Decl> Declarations, ImmutableArray<SourceFile> Files);

// ---- statements ----
public abstract record Stmt(SourceSpan Span) : SyntaxNode(Span);
public sealed record BlockStmt(ImmutableArray<Stmt> Statements, SourceSpan Span) : Stmt(Span);
public sealed record VarDeclarator(string Name, ImmutableArray<Expr> ExtraSizes, Expr? Init, SourceSpan Span) : SyntaxNode(Span);
public sealed record VarDeclStmt(TypeSyntax Type, ImmutableArray<VarDeclarator> Vars, SourceSpan Span) : Stmt(Span);
public sealed record ExprStmt(Expr Expr, SourceSpan Span) : Stmt(Span);
public sealed record IfStmt(Expr Condition, Stmt Then, Stmt? Else, SourceSpan Span) : Stmt(Span);
public sealed record ForStmt(Stmt? Init, Expr? Condition, Stmt? Update, Stmt Body, SourceSpan Span) : Stmt(Span);
public sealed record WhileStmt(Expr Condition, Stmt Body, SourceSpan Span) : Stmt(Span);
public sealed record DoWhileStmt(Stmt Body, Expr Condition, SourceSpan Span) : Stmt(Span);
public sealed record BreakStmt(SourceSpan Span) : Stmt(Span);
public sealed record ContinueStmt(SourceSpan Span) : Stmt(Span);
public sealed record ReturnStmt(Expr? Value, SourceSpan Span) : Stmt(Span);
public sealed record EmptyStmt(SourceSpan Span) : Stmt(Span);
public sealed record AddStmt(StreamExpr Stream, ImmutableArray<Expr> Portals, SourceSpan Span) : Stmt(Span);
public enum SplitJoinKind { Duplicate, RoundRobin, Null }
public sealed record SplitJoinSpec(SplitJoinKind Kind, ImmutableArray<Expr> Weights, SourceSpan Span) : SyntaxNode(Span);
public sealed record SplitStmt(SplitJoinSpec Spec, SourceSpan Span) : Stmt(Span);
public sealed record JoinStmt(SplitJoinSpec Spec, SourceSpan Span) : Stmt(Span);
public sealed record BodyStmt(StreamExpr Stream, SourceSpan Span) : Stmt(Span);
public sealed record LoopStmt(StreamExpr Stream, SourceSpan Span) : Stmt(Span);
public sealed record EnqueueStmt(Expr Value, SourceSpan Span) : Stmt(Span);

// ---- stream expressions (what add/body/loop name) ----
public abstract record StreamExpr(SourceSpan Span) : SyntaxNode(Span);
public sealed record NamedStreamExpr(string Name, TypeSyntax? TypeArg, ImmutableArray<Expr> Args, SourceSpan Span) : StreamExpr(Span);
public sealed record AnonymousStreamExpr(StreamDecl Decl, SourceSpan Span) : StreamExpr(Span);

// ---- expressions ----
public abstract record Expr(SourceSpan Span) : SyntaxNode(Span);
public sealed record IntLiteral(long Value, SourceSpan Span) : Expr(Span);
public sealed record FloatLiteral(double Value, bool IsDouble, string Text, SourceSpan Span) : Expr(Span);
public sealed record BoolLiteral(bool Value, SourceSpan Span) : Expr(Span);
public sealed record StringLiteral(string Value, SourceSpan Span) : Expr(Span);
public sealed record NameExpr(string Name, SourceSpan Span) : Expr(Span);
public sealed record BinaryExpr(string Op, Expr Left, Expr Right, SourceSpan Span) : Expr(Span);
/// <summary>Prefix <c>- + ! ~</c>.</summary>
public sealed record UnaryExpr(string Op, Expr Operand, SourceSpan Span) : Expr(Span);
public sealed record IncDecExpr(Expr Target, bool Increment, bool Prefix, SourceSpan Span) : Expr(Span);
/// <summary><c>=</c> (Op null) or a compound assignment (<c>+</c> for <c>+=</c>, …).</summary>
public sealed record AssignExpr(string? Op, Expr Target, Expr Value, SourceSpan Span) : Expr(Span);
public sealed record ConditionalExpr(Expr Condition, Expr WhenTrue, Expr WhenFalse, SourceSpan Span) : Expr(Span);
public sealed record CastExpr(TypeSyntax Type, Expr Operand, SourceSpan Span) : Expr(Span);
public sealed record IndexExpr(Expr Target, Expr Index, SourceSpan Span) : Expr(Span);
public sealed record FieldExpr(Expr Target, string Field, SourceSpan Span) : Expr(Span);
/// <summary>A call: an intrinsic, a helper function, <c>push</c>/<c>pop</c>/<c>peek</c>, <c>print</c>/<c>println</c>.</summary>
public sealed record CallExpr(string Name, ImmutableArray<Expr> Args, SourceSpan Span) : Expr(Span);
/// <summary><c>portal.handler(args) [min:max]</c>: a teleport message.</summary>
public sealed record MessageExpr(Expr Portal, string Handler, ImmutableArray<Expr> Args, Expr? MinLatency, Expr? MaxLatency, SourceSpan Span) : Expr(Span);
public sealed record ArrayInitExpr(ImmutableArray<Expr> Elements, SourceSpan Span) : Expr(Span);
