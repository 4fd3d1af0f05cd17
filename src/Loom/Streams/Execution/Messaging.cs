using System.Globalization;
using Loom.Streams.Graph;
using Loom.Streams.Scheduling;

namespace Loom.Streams.Execution;

/// <summary>A <c>portal&lt;T&gt;</c>: the filters registered with <c>add … to p</c>, in registration order.</summary>
public sealed class Portal
{
    public List<FilterNode> Receivers { get; } = [];
}

/// <summary>A teleport message waiting in its receiver's box: the handler's index, its arguments, when it is due.</summary>
public sealed record Message(int Handler, object?[] Args, long Due, long Order);

/// <summary>
/// A filter's side of teleport messaging: how many times it has fired (prework included), and the messages
/// waiting for it, due when <see cref="Fired"/> reaches <see cref="Message.Due"/> (delivered before its next firing).
/// Compiled work reads <see cref="Fired"/> and <see cref="Due"/> directly.
/// </summary>
public sealed class MessageBox
{
    public long Fired;
    /// <summary>The earliest pending message's due count, or long.MaxValue when none is pending.</summary>
    public long Due = long.MaxValue;
    private readonly List<Message> _pending = [];
    private long _sent;

    /// <summary>The actor of this filter in the graph being run (set when the program is flattened).</summary>
    public Actor? Actor { get; set; }
    public FlatGraph? Graph { get; set; }

    public void Add(int handler, object?[] args, long due)
    {
        var m = new Message(handler, args, due, _sent++);
        // In due order; messages due at the same firing are handled in the order they were sent.
        int i = _pending.Count;
        while (i > 0 && _pending[i - 1].Due > due) i--;
        _pending.Insert(i, m);
        Due = _pending[0].Due;
    }

    public Message Take()
    {
        var m = _pending[0];
        _pending.RemoveAt(0);
        Due = _pending.Count > 0 ? _pending[0].Due : long.MaxValue;
        return m;
    }
}

/// <summary>
/// Sends teleport messages with StreamIt's timing (Thies et al., "Teleport Messaging for Distributed Stream
/// Programs", as the MIT Java library implements it, with the maximum latency). A message sent during the
/// sender S's n-th firing with latency k goes:
/// <list type="bullet">
/// <item>downstream to R: immediately before R's first firing that sees data from S's (n+k)-th firing, i.e. R's
/// m-th firing for the least m with SDEP_{S←R}(m) ≥ n+k;</item>
/// <item>upstream to R: immediately after R's SDEP_{R←S}(n+k)-th firing;</item>
/// </list>
/// where SDEP_{A←B}(m) is the fewest firings of A that let B fire m times (peeks, prework and enqueued items counted).
/// </summary>
public static class Messaging
{
    public static void Send(object? portal, MessageBox sender, string handler, object?[] args, int latency)
    {
        if (portal is not Portal p) throw new StreamException($"a message {handler} is sent through a portal that was never made");
        var s = sender.Actor ?? throw new StreamException($"internal: the sender of {handler} is not in the graph");
        var g = sender.Graph!;
        long n = sender.Fired + 1;
        foreach (var node in p.Receivers)
        {
            var box = node.Box;
            var r = box.Actor ?? throw new StreamException($"internal: the receiver {node.Name} is not in the graph");
            int h = node.Symbol.Functions.Where(f => f.IsHandler).Select(f => f.Name).ToList().IndexOf(handler);
            if (h < 0) throw new StreamException($"filter {node.Name} has no message handler {handler} (sent by {s.Name})");
            long due;
            if (Reaches(g, s, r))
            {
                long target = n + latency, lo = 0, hi = 1;
                // The least m with SDEP_{S←R}(m) ≥ target (SDEP grows with m): double, then bisect.
                while (Sdep(g, s, r, hi) < target)
                {
                    lo = hi;
                    hi *= 2;
                    if (hi > 1L << 40) throw new StreamException($"a message from {s.Name} to {r.Name} can never arrive: {r.Name} does not depend on {s.Name}'s later firings");
                }
                while (hi - lo > 1)
                {
                    long mid = (lo + hi) / 2;
                    if (Sdep(g, s, r, mid) >= target) hi = mid; else lo = mid;
                }
                due = hi - 1;
            }
            else if (Reaches(g, r, s)) due = Sdep(g, r, s, n + latency);
            else throw new StreamException($"no path between {s.Name} and {r.Name}: a teleport message travels only along the stream");
            if (box.Fired > due)
                throw new StreamException(
                    $"message {handler} from {s.Name} (firing {n}, latency {latency}) is due at {r.Name}'s firing {due + 1}, but {r.Name} has fired {box.Fired} times: the latency is too small for this graph");
            box.Add(h, args, due);
        }
    }

    /// <summary>A handler argument as the handler's parameter type (senders may pass an int to a float parameter).</summary>
    public static T Arg<T>(Message m, int i)
    {
        var v = m.Args[i];
        if (v is T t) return t;
        return (T)System.Convert.ChangeType(v, typeof(T), CultureInfo.InvariantCulture)!;
    }

    private static bool Reaches(FlatGraph g, Actor from, Actor to)
    {
        var seen = new HashSet<Actor> { from };
        var stack = new Stack<Actor>([from]);
        while (stack.Count > 0)
            foreach (var e in stack.Pop().Out)
                if (e is not null && seen.Add(e.Dst))
                {
                    if (e.Dst == to) return true;
                    stack.Push(e.Dst);
                }
        return false;
    }

    /// <summary>SDEP_{A←B}(m): the fewest firings of <paramref name="a"/> needed for <paramref name="b"/> to fire m times.</summary>
    public static long Sdep(FlatGraph g, Actor a, Actor b, long m)
    {
        var need = new long[g.Actors.Count];
        need[b.Index] = m;
        // Demand flows from consumers to producers; actors are in topological order, so one backward pass
        // settles an acyclic graph and a feedback loop settles after a few more.
        for (int pass = 0; pass < 4 * g.Actors.Count + 8; pass++)
        {
            bool changed = false;
            for (int i = g.Actors.Count - 1; i >= 0; i--)
            {
                var v = g.Actors[i];
                long k = need[i];
                if (k == 0) continue;
                for (int port = 0; port < v.In.Count; port++)
                {
                    if (v.In[port] is not { } e) continue;
                    long items = v.Consumed(port, k - 1) + v.NeededForFiring(port, k - 1) - e.Initial.Count;
                    long f = Firings(e.Src, e.SrcPort, items);
                    if (f > need[e.Src.Index]) { need[e.Src.Index] = f; changed = true; }
                }
            }
            if (!changed) return need[a.Index];
        }
        throw new StreamException($"the dependence of {b.Name} on {a.Name} does not settle (a feedback loop without enough enqueued items?)");
    }

    private static long Firings(Actor u, int port, long items)
    {
        if (items <= 0) return 0;
        if (u.HasPrework)
        {
            long pre = u.Filter!.PrePush.Value;
            if (pre >= items) return 1;
            return u.Push[port] == 0 ? long.MaxValue / 4 : 1 + (items - pre + u.Push[port] - 1) / u.Push[port];
        }
        return u.Push[port] == 0 ? long.MaxValue / 4 : (items + u.Push[port] - 1) / u.Push[port];
    }
}
