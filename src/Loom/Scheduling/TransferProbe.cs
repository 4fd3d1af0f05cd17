using System.Diagnostics;

namespace Loom.Scheduling;

/// <summary>
/// What a value costs when another core made it: the time to see the producer's signal (half a
/// ping-pong between two threads) and the extra time to read bytes the other core just wrote over
/// reading them from one's own cache. Best of several rounds within a time limit; a machine too busy
/// to answer in time gets conservative defaults.
/// </summary>
internal static class TransferProbe
{
    private const int Floats = 64 * 1024; // 256 KiB, a typical activation
    private const int Rounds = 30;
    private static readonly TimeSpan Limit = TimeSpan.FromMilliseconds(10);
    private static readonly KernelTiming Default = new(5e-6, 1 / 10e9);

    private sealed class Shared
    {
        public readonly float[] Buffer = new float[Floats];
        public int Flag;      // odd: the helper's turn; even: ours
        public bool Write;    // whether the helper fills the buffer on its turn
        public bool Stop;
    }

    public static KernelTiming Run()
    {
        var s = new Shared();
        var helper = new Thread(() => Help(s)) { IsBackground = true, Name = "loom-transfer-probe" };
        helper.Start();
        var clock = Stopwatch.StartNew();
        double bestTrip = double.MaxValue, bestRemote = double.MaxValue, bestLocal = double.MaxValue;
        int trips = 0, reads = 0, round = 0;
        try
        {
            for (int i = 0; i < 2 * Rounds && clock.Elapsed < Limit; i++)
            {
                bool write = i >= Rounds;
                Volatile.Write(ref s.Write, write);
                long t0 = Stopwatch.GetTimestamp();
                round++;
                Volatile.Write(ref s.Flag, 2 * round - 1);
                while (Volatile.Read(ref s.Flag) != 2 * round)
                    if (clock.Elapsed >= Limit) return Default;
                long t1 = Stopwatch.GetTimestamp();
                if (!write)
                {
                    bestTrip = Math.Min(bestTrip, Seconds(t1 - t0));
                    trips++;
                    continue;
                }
                float remote = Sum(s.Buffer);
                long t2 = Stopwatch.GetTimestamp();
                float local = Sum(s.Buffer);
                long t3 = Stopwatch.GetTimestamp();
                if (remote != local) throw new InvalidOperationException("transfer probe read torn data");
                bestRemote = Math.Min(bestRemote, Seconds(t2 - t1));
                bestLocal = Math.Min(bestLocal, Seconds(t3 - t2));
                reads++;
            }
        }
        finally
        {
            Volatile.Write(ref s.Stop, true);
            helper.Join();
        }
        if (trips < 5 || reads < 5) return Default;
        return new KernelTiming(bestTrip / 2, Math.Max(0, bestRemote - bestLocal) / (Floats * 4.0));
    }

    private static void Help(Shared s)
    {
        for (int round = 1; ; round++)
        {
            while (Volatile.Read(ref s.Flag) != 2 * round - 1)
                if (Volatile.Read(ref s.Stop)) return;
            if (Volatile.Read(ref s.Write))
                for (int i = 0; i < s.Buffer.Length; i++) s.Buffer[i] = round + i;
            Volatile.Write(ref s.Flag, 2 * round);
        }
    }

    private static double Seconds(long ticks) => ticks / (double)Stopwatch.Frequency;

    private static float Sum(float[] a)
    {
        float s = 0;
        for (int i = 0; i < a.Length; i += 16) s += a[i];
        return s;
    }
}
