// The two ways a channel's batches travel: within a worker thread, or over a MessagePort between workers.
import type { MessagePort } from 'node:worker_threads';
import type { BatchEncoder, WireMessage } from './batch-codec.ts';
import type { InputGate } from './input-gate.ts';
import type { ChannelMessage, OutboundTransport } from './types.ts';

/** Same worker: the batch object itself is handed over, nothing is encoded. */
export class LocalTransport implements OutboundTransport {
  constructor(
    private readonly gate: InputGate,
    private readonly inputChannelIndex: number,
  ) {}

  send(message: ChannelMessage): void {
    this.gate.pushMessage(this.inputChannelIndex, message);
  }

  close(): void {}
}

/** Across workers: msgpackr bytes in an ArrayBuffer that is transferred, not copied. */
export class PortTransport implements OutboundTransport {
  constructor(
    private readonly port: MessagePort,
    private readonly encoder: BatchEncoder,
  ) {}

  send(message: ChannelMessage): void {
    const { wire, transfer } = this.encoder.encode(message);
    this.port.postMessage(wire, transfer);
  }

  close(): void {
    this.port.close();
  }
}

/** Consumer side of a port channel: incoming batches go to the gate, credits go back on the port. */
export function connectInboundPort(port: MessagePort, gate: InputGate, inputChannelIndex: number): void {
  port.on('message', (wire: WireMessage) => gate.pushWire(inputChannelIndex, wire));
  gate.connect(inputChannelIndex, () => port.postMessage(1));
}
