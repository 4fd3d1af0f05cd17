using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Loom.Streams.CodeGen;

/// <summary>
/// Array reads without the bounds check, for compiled code that has proven the index in range (see
/// <c>CodeGen.FlatRead</c>). Public: compiled code lives in a dynamic assembly and the JIT inlines into it
/// only what it could call directly.
/// </summary>
public static class UncheckedArray
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Load<T>(T[] a, int i) => Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(a), (nint)(uint)i);
}
