// ui/chat/e2e/chat.test.mjs
// The chat page in Debian's Chromium against the real gateway, the mock APIM and the LLM
// stand-in (e2e/lib.mjs), once per provider wire format (OpenAI, Anthropic):
//   - sign in with the customer-care agent's key, type the booking sentence, see the tool calls
//     stream in inline (resolve_vehicle, find_nearby_dealers, get_available_slots) with their
//     arguments and results, the confirmation dialog names the call and its arguments, accept:
//     the summary names the booking id and the booking is in the mock APIM's database;
//   - a declined confirmation books nothing and says so;
//   - the analyst (no booking right) gets the agent's explanation and no dialog, no booking;
//   - a refusal of the gateway (a dealer's agent asking for another dealer) is shown on the tool
//     call with the policy's reason and hint, and the agent explains it;
//   - the conversation is listed, resumed after a reload with its tool calls, and deleted;
//   - a provider failure (rate limit too long to wait) is explained in words and the page
//     stays usable;
//   - axe-core finds no WCAG A/AA violation on the sign-in page, a conversation and the
//     dialog; no console error or CSP violation on any page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, launchBrowser, newPage, signIn, say, axe, SENTENCE, OTHER_DEALER } from './lib.mjs';

let stack, browser;

before(async () => {
  stack = await startStack();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  const reports = await stack?.stop();
  assert.deepEqual(reports || [], [], 'no sanitizer report');
});

const bookings = () => stack.mock.bookings().bookings;

for (const provider of ['openai', 'anthropic']) {
  test(`${provider}: book a service by talking, confirm in the dialog, booked in the mock APIM`, async () => {
    const base = stack.gw[provider].url;
    const before = bookings().length;
    const page = await newPage(browser);
    await page.goto(`${base}/chat/`);
    assert.deepEqual(await axe(page), [], 'sign-in page accessible');
    await signIn(page, base, stack.keys.cc);
    await page.getByText('Signed in as').waitFor();
    await say(page, SENTENCE);
    // tool calls stream in inline, with their decisions
    for (const name of ['resolve_vehicle', 'find_nearby_dealers', 'get_available_slots'])
      await page.locator(`details.tool[data-tool="${name}"][data-state="allowed"]`).waitFor();
    const dialog = page.getByRole('dialog', { name: /Confirm: create booking/i });
    await dialog.waitFor();
    const dtext = await dialog.innerText();
    assert.match(dtext, /MH12AB1234/);
    assert.match(dtext, /MSIL-PUNE-001/);
    assert.match(dtext, /10:00/);
    assert.match(dtext, /Nothing happens unless you accept/);
    assert.equal(bookings().length, before, 'nothing booked while the dialog is open');
    assert.deepEqual(await axe(page), [], 'the dialog is accessible');
    await dialog.getByRole('button', { name: 'Accept' }).click();
    await page.locator('details.tool[data-tool="create_booking"][data-state="confirmed"]').waitFor();
    const summary = page.locator('.msg.assistant .bubble', { hasText: /Done: your service is booked\. Booking BK-\d{4}-\d{6} .*\(status CONFIRMED\)/ });
    await summary.waitFor();
    const id = /BK-\d{4}-\d{6}/.exec(await summary.innerText())?.[0];
    assert.ok(id, 'the summary names the booking id');
    const row = bookings().find((b) => b.booking_id === id);
    assert.ok(row, `booking ${id} is in the mock database`);
    assert.equal(row.registration_number, 'MH12AB1234');
    assert.equal(row.dealer_id, 'MSIL-PUNE-001');
    assert.equal(bookings().length, before + 1);
    // (the modal dialog kept the page inert meanwhile) a tool call opens to show its arguments and result
    const veh = page.locator('details.tool[data-tool="resolve_vehicle"]');
    await veh.locator('summary').click();
    assert.match(await veh.innerText(), /registration_number/);
    assert.match(await veh.innerText(), /Swift/);
    assert.deepEqual(await axe(page), [], 'the conversation is accessible');

    // listed, and resumed after a reload with its tool calls and decisions
    await page.reload();
    await page.getByRole('navigation', { name: 'Conversations' }).getByRole('button', { name: /^Book a service for MH12AB1234/ }).first().click();
    await page.locator('details.tool[data-tool="create_booking"][data-state="confirmed"]').waitFor();
    await page.locator('.msg.assistant .bubble', { hasText: id }).waitFor();
    assert.deepEqual(page.problems(), []);
    await page.context().close();
  });

  test(`${provider}: a declined confirmation books nothing`, async () => {
    const base = stack.gw[provider].url;
    const before = bookings().length;
    const page = await newPage(browser);
    await signIn(page, base, stack.keys.cc);
    await say(page, SENTENCE);
    const dialog = page.getByRole('dialog', { name: /Confirm: create booking/i });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Decline' }).click();
    await page.locator('details.tool[data-tool="create_booking"][data-state="declined"]').waitFor();
    await page.getByText('I did not book anything').waitFor();
    assert.equal(bookings().length, before, 'no booking');
    assert.deepEqual(page.problems(), []);
    await page.context().close();
  });

  test(`${provider}: the analyst gets the agent's explanation and no booking`, async () => {
    const base = stack.gw[provider].url;
    const before = bookings().length;
    const page = await newPage(browser);
    await signIn(page, base, stack.keys.analyst);
    await say(page, SENTENCE);
    await page.getByText(/cannot make bookings with your access/).waitFor();
    assert.equal(await page.getByRole('dialog').count(), 0, 'no confirmation asked');
    assert.equal(await page.locator('details.tool[data-tool="create_booking"]').count(), 0);
    assert.equal(bookings().length, before);
    assert.deepEqual(page.problems(), []);
    await page.context().close();
  });
}

test('a refusal of the gateway is shown with its reason, and the agent explains it', async () => {
  const base = stack.gw.anthropic.url;
  const page = await newPage(browser);
  await signIn(page, base, stack.keys.dealer);
  await say(page, OTHER_DEALER);
  const tool = page.locator('details.tool[data-tool="get_available_slots"][data-state="denied"]');
  await tool.waitFor();
  assert.match(await tool.locator('summary').innerText(), /Refused by the gateway/);
  await tool.locator('summary').click();
  assert.match(await tool.innerText(), /The gateway refused this call: dealer agents act only for their own dealers, and MSIL-MUMBAI-001 is not one of yours \(hint: use one of the dealer ids/);
  await page.getByText(/I cannot do that for you: dealer agents act only for their own dealers/).waitFor();
  assert.deepEqual(await axe(page), []);
  assert.deepEqual(page.problems(), []);
  await page.context().close();
});

test('a provider failure is explained and the page stays usable; conversations can be deleted', async () => {
  const base = stack.gw.openai.url;
  const page = await newPage(browser);
  await signIn(page, base, stack.keys.cc);
  await say(page, 'trigger:rate-limit-hard');
  const alert = page.locator('.msg.error');
  await alert.waitFor();
  assert.match(await alert.innerText(), /The language model is busy\..*Try again in 120 seconds/s);
  // the composer is usable again: the next message gets an answer
  await say(page, 'What can you do for me?');
  await page.getByText(/I can book a car service for you/).waitFor();
  const item = page.getByRole('button', { name: /Delete conversation “trigger:rate-limit-hard”/ });
  await item.click();
  await item.waitFor({ state: 'detached' });
  assert.deepEqual(page.problems(), []);
  await page.context().close();
});
