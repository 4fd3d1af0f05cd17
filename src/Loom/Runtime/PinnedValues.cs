using System.Runtime.InteropServices;

namespace Loom.Runtime;

/// <summary>
/// Keeps the arrays behind some constant tensors from moving, once, for as long as the owner lives. A held pool job
/// (<see cref="Threading.WorkerPool.HoldNextJob"/>) runs after its kernel has left the <c>fixed</c> blocks that pinned its
/// pointers; frame buffers and packed weights are pinned from birth, constants (a bias) are not.
/// </summary>
internal sealed class PinnedValues
{
    private readonly List<GCHandle> _handles = new();
    private readonly HashSet<Array> _pinned = new(ReferenceEqualityComparer.Instance);
    private readonly Lock _lock = new();

    public void Pin(LoomValue? value)
    {
        if (value is not Tensor { Buffer: var buffer } || buffer.GetType().GetElementType() is not { IsPrimitive: true }) return;
        lock (_lock)
            if (_pinned.Add(buffer)) _handles.Add(GCHandle.Alloc(buffer, GCHandleType.Pinned));
    }

    ~PinnedValues()
    {
        foreach (var h in _handles) h.Free();
    }
}
