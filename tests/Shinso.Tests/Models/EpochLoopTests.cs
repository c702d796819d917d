using Shinso.Data;
using Shinso.Random;
using Shinso.Training;

namespace Shinso.Tests.Models;

/// <summary>The epoch loop every family trains through: how it cuts epochs into minibatches.</summary>
public class EpochLoopTests
{
    private static List<int[]> Batches(MinibatchPlan plan, int epoch, out EpochOutcome outcome)
    {
        var seen = new List<int[]>();
        outcome = EpochLoop.Run((indices, e) =>
        {
            Assert.Equal(epoch, e);
            seen.Add(indices.ToArray());
            return new BatchOutcome(indices.Length * 0.5, 1);
        }, plan, epoch);
        return seen;
    }

    [Fact]
    public void Minibatches_cover_the_epoch_permutation_and_keep_or_drop_the_partial_batch()
    {
        var order = RandomStream.Root(4).Derive("epoch-order");
        var kept = Batches(new MinibatchPlan(23, 5, DropPartialBatch: false, order), 3, out var keptOutcome);
        Assert.Equal([5, 5, 5, 5, 3], kept.Select(b => b.Length));
        Assert.Equal(DeterministicShuffle.EpochPermutation(23, 3, order), kept.SelectMany(b => b));
        Assert.Equal((5, 23, 11.5, 5L), (keptOutcome.Updates, keptOutcome.Samples, keptOutcome.LossSum, keptOutcome.Correct));
        Assert.Equal(0.5, keptOutcome.MeanLoss);

        var dropped = Batches(new MinibatchPlan(23, 5, DropPartialBatch: true, order), 3, out var droppedOutcome);
        Assert.Equal([5, 5, 5, 5], dropped.Select(b => b.Length));
        Assert.Equal(DeterministicShuffle.EpochPermutation(23, 3, order).Take(20), dropped.SelectMany(b => b));
        Assert.Equal(20, droppedOutcome.Samples);
        Assert.Empty(Batches(new MinibatchPlan(4, 5, DropPartialBatch: true, order), 0, out _));
    }

    [Fact]
    public void A_batch_that_holds_every_sample_visits_them_in_order_and_online_learning_takes_one_at_a_time()
    {
        var order = RandomStream.Root(4).Derive("epoch-order");
        Assert.Equal([Enumerable.Range(0, 7).ToArray()], Batches(new MinibatchPlan(7, 0, false, order), 2, out _));
        Assert.Equal([Enumerable.Range(0, 7).ToArray()], Batches(new MinibatchPlan(7, 9, false, order), 2, out _));
        var online = Batches(new MinibatchPlan(7, 1, false, order), 2, out _);
        Assert.Equal(7, online.Count);
        Assert.Equal(DeterministicShuffle.EpochPermutation(7, 2, order), online.Select(b => b[0]));
    }

    [Fact]
    public void Cancellation_stops_the_epoch_before_the_next_update()
    {
        using var cancel = new CancellationTokenSource();
        int updates = 0;
        Assert.Throws<OperationCanceledException>(() => EpochLoop.Run((indices, _) =>
        {
            if (++updates == 2) cancel.Cancel();
            return default;
        }, new MinibatchPlan(10, 2, false, RandomStream.Root(1)), 0, cancellation: cancel.Token));
        Assert.Equal(2, updates);
    }
}
