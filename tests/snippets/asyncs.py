import asyncio


async def ticker(n):
    for i in range(n):
        await asyncio.sleep(0)
        yield i


async def consume():
    total = 0
    async for i in ticker(3):
        total += i
    async with Lock() as lock:
        total += lock
    return total


class Lock:
    async def __aenter__(self):
        return 1

    async def __aexit__(self, *exc):
        return False


async def never_awaited():
    await asyncio.sleep(1)
    return "never"


asyncio.run(consume())
