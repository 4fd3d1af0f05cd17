using System.Collections.Immutable;
using Loom.Streams.Syntax;

namespace Loom.Streams.Semantics;

// The bound (typed, name-resolved) tree the binder makes from the syntax tree. Elaboration interprets it;
// code generation compiles filter code from it.

public enum VarKind
{
    /// <summary>A local variable of a function or stream body.</summary>
    Local,
    /// <summary>A stream parameter, or a variable an anonymous stream captures from where it is added: constant per instance.</summary>
    Param,
    /// <summary>A filter field: state that lives across firings.</summary>
    Field,
    /// <summary>A global from a static block.</summary>
    Global,
}

public sealed class VarSymbol(string name, SType type, VarKind kind, SourceSpan declared)
{
    public string Name { get; } = name;
    public SType Type { get; } = type;
    public VarKind Kind { get; } = kind;
    public SourceSpan Declared { get; } = declared;
    /// <summary>Array sizes as declared (outermost first), evaluated per instance; empty for non-arrays.</summary>
    public ImmutableArray<BExpr> Sizes { get; set; } = [];
    /// <summary>Position among the symbols of its kind in its owner (parameter index, field index, global index).</summary>
    public int Index { get; set; }
    /// <summary>For a variable captured by an anonymous stream: the variable of the enclosing body it copies.</summary>
    public VarSymbol? CapturedFrom { get; set; }
    public override string ToString() => Name;
}

public sealed class FunctionSymbol(string name, SType returnType, ImmutableArray<VarSymbol> parameters, SourceSpan declared)
{
    public string Name { get; } = name;
    public SType ReturnType { get; } = returnType;
    public ImmutableArray<VarSymbol> Parameters { get; } = parameters;
    public SourceSpan Declared { get; } = declared;
    public BBlock Body { get; set; } = null!;
    public bool IsHandler { get; init; }
    public override string ToString() => Name;
}

// ---- expressions ----
public abstract record BExpr(SType Type, SourceSpan Span);
/// <summary>A constant: int, float, double, bool, string or a ComplexValue.</summary>
public sealed record BConst(object Value, SType Type, SourceSpan Span) : BExpr(Type, Span);
public sealed record BVar(VarSymbol Symbol, SourceSpan Span) : BExpr(Symbol.Type, Span);
public enum BinOp { Add, Sub, Mul, Div, Rem, And, Or, Xor, Shl, Shr, UShr, Lt, Gt, Le, Ge, Eq, Ne, LogAnd, LogOr }
/// <summary>Both operands already converted to <see cref="OperandType"/>.</summary>
public sealed record BBinary(BinOp Op, BExpr Left, BExpr Right, SType OperandType, SType Type, SourceSpan Span) : BExpr(Type, Span);
public enum UnOp { Neg, Not, BitNot }
public sealed record BUnary(UnOp Op, BExpr Operand, SType Type, SourceSpan Span) : BExpr(Type, Span);
public sealed record BConvert(BExpr Operand, SType Type, SourceSpan Span) : BExpr(Type, Span);
/// <summary>An assignment; a compound one (<c>x += e</c>) is bound as <c>x = x + e</c> with Target read once.</summary>
public sealed record BAssign(BExpr Target, BExpr Value, SourceSpan Span) : BExpr(Target.Type, Span);
/// <summary><c>x op= e</c>: Value is computed from the current target value by <see cref="Op"/> in OperandType then converted back.</summary>
public sealed record BCompoundAssign(BExpr Target, BinOp Op, BExpr Value, SType OperandType, SourceSpan Span) : BExpr(Target.Type, Span);
public sealed record BIncDec(BExpr Target, bool Increment, bool Prefix, SourceSpan Span) : BExpr(Target.Type, Span);
public sealed record BConditional(BExpr Condition, BExpr WhenTrue, BExpr WhenFalse, SType Type, SourceSpan Span) : BExpr(Type, Span);
public sealed record BIndex(BExpr Array, BExpr Index, SType Type, SourceSpan Span) : BExpr(Type, Span);
public sealed record BFieldAccess(BExpr Target, int FieldIndex, SType Type, SourceSpan Span) : BExpr(Type, Span);
public sealed record BCall(FunctionSymbol Function, ImmutableArray<BExpr> Args, SourceSpan Span) : BExpr(Function.ReturnType, Span);
public sealed record BIntrinsic(string Name, ImmutableArray<BExpr> Args, SType Type, SourceSpan Span) : BExpr(Type, Span);
public sealed record BPop(SType Type, SourceSpan Span) : BExpr(Type, Span);
public sealed record BPeek(BExpr Index, SType Type, SourceSpan Span) : BExpr(Type, Span);
public sealed record BPush(BExpr Value, SourceSpan Span) : BExpr(SType.Void, Span);
public sealed record BPrint(ImmutableArray<BExpr> Parts, bool NewLine, SourceSpan Span) : BExpr(SType.Void, Span);
public sealed record BArrayInit(ImmutableArray<BExpr> Elements, SType Type, SourceSpan Span) : BExpr(Type, Span);
public sealed record BMessage(BExpr Portal, string Handler, ImmutableArray<BExpr> Args, BExpr? MinLatency, BExpr? MaxLatency, SourceSpan Span) : BExpr(SType.Void, Span);

// ---- statements ----
public abstract record BStmt(SourceSpan Span);
public sealed record BBlock(ImmutableArray<BStmt> Statements, SourceSpan Span) : BStmt(Span);
/// <summary>Declares <see cref="Symbol"/>; its array sizes are in the symbol; Init may be null (zero / zeroed array).</summary>
public sealed record BVarDecl(VarSymbol Symbol, BExpr? Init, SourceSpan Span) : BStmt(Span);
public sealed record BExprStmt(BExpr Expr, SourceSpan Span) : BStmt(Span);
public sealed record BIf(BExpr Condition, BStmt Then, BStmt? Else, SourceSpan Span) : BStmt(Span);
/// <summary>for / while / do-while: Init once; then (unless TestFirst is false the first time) Condition, Body, Update.</summary>
public sealed record BLoop(BStmt? Init, BExpr? Condition, BStmt? Update, BStmt Body, bool TestFirst, SourceSpan Span) : BStmt(Span);
public sealed record BBreak(SourceSpan Span) : BStmt(Span);
public sealed record BContinue(SourceSpan Span) : BStmt(Span);
public sealed record BReturn(BExpr? Value, SourceSpan Span) : BStmt(Span);

// Composite-body statements (run at elaboration time).
/// <summary>A reference to a stream to instantiate: a declaration plus argument expressions (captured variables for an anonymous one).</summary>
public sealed record BStreamRef(StreamSymbol Stream, ImmutableArray<BExpr> Args, SType? TypeArg, SourceSpan Span);
public sealed record BAdd(BStreamRef Stream, ImmutableArray<BExpr> Portals, SourceSpan Span) : BStmt(Span);
public sealed record BSplitJoin(bool IsSplit, SplitJoinKind Kind, ImmutableArray<BExpr> Weights, SourceSpan Span) : BStmt(Span);
public sealed record BBodyOrLoop(bool IsBody, BStreamRef Stream, SourceSpan Span) : BStmt(Span);
public sealed record BEnqueue(BExpr Value, SourceSpan Span) : BStmt(Span);
