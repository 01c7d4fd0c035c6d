import asyncio

from elcaro.core.events import EventBus


async def test_every_subscriber_gets_every_event_in_order() -> None:
    bus: EventBus[int] = EventBus()
    first, second = bus.subscribe(), bus.subscribe()
    for n in range(3):
        bus.publish(n)
    assert [await first.get() for _ in range(3)] == [0, 1, 2]
    assert [await second.get() for _ in range(3)] == [0, 1, 2]


async def test_a_slow_subscriber_loses_its_oldest_events_and_never_blocks_the_publisher() -> None:
    bus: EventBus[int] = EventBus(queue_size=2)
    slow = bus.subscribe()
    for n in range(5):
        bus.publish(n)
    assert slow.dropped == 3 and [await slow.get(), await slow.get()] == [3, 4]


async def test_iterating_ends_the_subscription_when_the_consumer_stops() -> None:
    bus: EventBus[str] = EventBus()
    subscription = bus.subscribe()
    received: list[str] = []

    async def consume() -> None:
        async for event in subscription:
            received.append(event)

    task = asyncio.create_task(consume())
    bus.publish("a")
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    bus.publish("b")
    assert received == ["a"] and subscription.pending() == 0
