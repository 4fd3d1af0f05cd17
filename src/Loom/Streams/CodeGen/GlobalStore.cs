using System.Runtime.CompilerServices;
using Loom.Streams.Semantics;

namespace Loom.Streams.CodeGen;

/// <summary>The values of a program's static-block globals: set once by the static code, then read as constants.</summary>
public sealed class GlobalStore
{
    public GlobalStore(IReadOnlyList<VarSymbol> globals)
    {
        Boxes = globals.Select(g => (IStrongBox)Activator.CreateInstance(typeof(StrongBox<>).MakeGenericType(ClrTypes.Of(g.Type)))!).ToArray();
    }

    public IStrongBox[] Boxes { get; }

    public static IStrongBox NewBox(SType t) => (IStrongBox)Activator.CreateInstance(typeof(StrongBox<>).MakeGenericType(ClrTypes.Of(t)))!;
}

/// <summary>What composite (pipeline, split-join, feedback loop) code calls while it runs at elaboration time.</summary>
public interface ICompositeBuilder
{
    void Add(BStreamRef stream, object?[] args);
    /// <summary><c>add S(…) to p, q</c>: adds S and registers it with the portals.</summary>
    void AddTo(BStreamRef stream, object?[] args, object?[] portals);
    void SplitOrJoin(bool isSplit, Syntax.SplitJoinKind kind, int[] weights);
    void BodyOrLoop(bool isBody, BStreamRef stream, object?[] args);
    void Enqueue(object? value);
}
