// Channels between workers that share one thread (baton/testing): direct calls, no MessagePort.
import type { ChannelWriter } from '../channels/channel-writer.ts';
import type { InputGate } from '../channels/input-gate.ts';
import type { ChannelMessage, OutboundTransport } from '../channels/types.ts';

interface Ends {
  gate?: InputGate;
  inputChannelIndex?: number;
  writer?: ChannelWriter;
  /** Sent before the consumer's gate existed (a restore replaying channel state early). */
  early: ChannelMessage[];
}

/**
 * The cross-worker channels of one attempt whose workers all run in this thread. Each end
 * registers when its worker builds it; the two ends may come in either order (workers restore
 * concurrently), so a message sent before its gate exists waits here and credits are wired once
 * both ends are known. Same-thread channels hand the batch object over like a worker's own local
 * channels, and keep the same credit-based flow control.
 */
export class InThreadChannels {
  private readonly ends = new Map<number, Ends>();

  private endsOf(channelId: number): Ends {
    let ends = this.ends.get(channelId);
    if (!ends) {
      ends = { early: [] };
      this.ends.set(channelId, ends);
    }
    return ends;
  }

  /** The consumer end: `gate` receives the channel's messages on `inputChannelIndex`. */
  consumer(channelId: number, gate: InputGate, inputChannelIndex: number): void {
    const ends = this.endsOf(channelId);
    ends.gate = gate;
    ends.inputChannelIndex = inputChannelIndex;
    this.wireCredits(ends);
    const early = ends.early.splice(0);
    for (const message of early) gate.pushMessage(inputChannelIndex, message);
  }

  /** The producer end's transport (create the writer with it, then register the writer with `producer`). */
  transport(channelId: number): OutboundTransport {
    const ends = this.endsOf(channelId);
    return {
      send: (message) => {
        if (ends.gate) ends.gate.pushMessage(ends.inputChannelIndex!, message);
        else ends.early.push(message);
      },
      close: () => {},
    };
  }

  producer(channelId: number, writer: ChannelWriter): void {
    const ends = this.endsOf(channelId);
    ends.writer = writer;
    this.wireCredits(ends);
  }

  private wireCredits(ends: Ends): void {
    const { gate, writer, inputChannelIndex } = ends;
    if (gate && writer && inputChannelIndex !== undefined) gate.connect(inputChannelIndex, () => writer.addCredits(1));
  }

  /** Messages sent to a gate that does not exist yet (none once every worker has restored). */
  get undelivered(): number {
    let n = 0;
    for (const ends of this.ends.values()) n += ends.early.length;
    return n;
  }
}
