/**
 * Bounded FIFO for facts waiting to be delivered. When full, the oldest fact makes room for the
 * newest: recent telemetry is worth more than old, and memory stays bounded however long Bifrost
 * is out of reach. A ring, so pushing and shifting stay O(1) at 10 000 items.
 */
export class TelemetryBuffer<T> {
  private readonly slots: (T | undefined)[];
  private head = 0;
  private size = 0;
  private dropped = 0;

  constructor(readonly maxItems: number) {
    if (!Number.isInteger(maxItems) || maxItems < 1) {
      throw new RangeError(`buffer maxItems must be a positive integer, got ${maxItems}`);
    }
    this.slots = new Array<T | undefined>(maxItems);
  }

  get depth(): number {
    return this.size;
  }

  /** Facts evicted because the buffer was full, since it was created. */
  get droppedCount(): number {
    return this.dropped;
  }

  /** Appends `item`; returns the oldest item it evicted when the buffer was full. */
  push(item: T): T | undefined {
    let evicted: T | undefined;
    if (this.size === this.maxItems) evicted = this.shift();
    if (evicted !== undefined) this.dropped += 1;
    this.slots[(this.head + this.size) % this.maxItems] = item;
    this.size += 1;
    return evicted;
  }

  /**
   * Puts back an item taken with `shift()` whose delivery failed. It is older than everything
   * buffered, so when the buffer filled up meanwhile it is the one dropped (and returned).
   */
  pushFront(item: T): T | undefined {
    if (this.size === this.maxItems) {
      this.dropped += 1;
      return item;
    }
    this.head = (this.head - 1 + this.maxItems) % this.maxItems;
    this.slots[this.head] = item;
    this.size += 1;
    return undefined;
  }

  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const item = this.slots[this.head];
    this.slots[this.head] = undefined;
    this.head = (this.head + 1) % this.maxItems;
    this.size -= 1;
    return item;
  }

  /** Oldest first. */
  toArray(): T[] {
    const items: T[] = [];
    for (let i = 0; i < this.size; i += 1) items.push(this.slots[(this.head + i) % this.maxItems] as T);
    return items;
  }
}
