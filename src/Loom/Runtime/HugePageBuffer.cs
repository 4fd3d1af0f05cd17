using System.Runtime.InteropServices;

namespace Loom.Runtime;

/// <summary>
/// Native floats, 2 MB aligned and on Linux advised to be backed by transparent huge pages (the kernel's
/// <c>madvise</c> mode backs only advised regions). Kernels that stream megabytes through scattered rows or whole
/// weight panels then miss the TLB once per 2 MB instead of once per 4 KB. Freed by the finalizer.
/// </summary>
internal sealed unsafe partial class HugePageBuffer
{
    private const nuint Alignment = 2 << 20;
    private const int MadvHugePage = 14;

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int MAdvise(void* address, nuint length, int advice);

    public HugePageBuffer(long floats)
    {
        Floats = floats;
        nuint bytes = ((nuint)(Math.Max(floats, 1) * sizeof(float)) + Alignment - 1) & ~(Alignment - 1);
        Pointer = (float*)NativeMemory.AlignedAlloc(bytes, Alignment);
        if (OperatingSystem.IsLinux()) MAdvise(Pointer, bytes, MadvHugePage);
        NativeMemory.Clear(Pointer, bytes);
        GC.AddMemoryPressure((long)bytes);
        _bytes = bytes;
    }

    private readonly nuint _bytes;

    public float* Pointer { get; }
    public long Floats { get; }

    /// <summary>A buffer of at least <paramref name="floats"/>: <paramref name="buffer"/> itself, or a new one twice as large (contents not kept).</summary>
    public static float* Grow(ref HugePageBuffer? buffer, long floats)
    {
        if (buffer is null || buffer.Floats < floats) buffer = new HugePageBuffer(Math.Max(floats, 2 * (buffer?.Floats ?? 0)));
        return buffer.Pointer;
    }

    ~HugePageBuffer()
    {
        NativeMemory.AlignedFree(Pointer);
        GC.RemoveMemoryPressure((long)_bytes);
    }
}
