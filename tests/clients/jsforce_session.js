// Drive jsforce 3 against a Salesforce API (the emulator in the tests) and print what it saw as JSON.
// Usage: node jsforce_session.js <jsforce folder> <instance url> (access token in $SF_ACCESS_TOKEN)
"use strict";
const path = require("path");
const jsforce = require(path.join(process.argv[2], "node_modules", "jsforce"));

async function main() {
  const conn = new jsforce.Connection({
    instanceUrl: process.argv[3], accessToken: process.env.SF_ACCESS_TOKEN, version: "62.0",
  });
  const out = {};
  const paged = await conn.query("SELECT Id, Name FROM Account ORDER BY Name").run({ autoFetch: true, maxFetch: 100000 });
  out.paged = { totalSize: paged.totalSize, fetched: paged.records.length, first: paged.records[0].Name };
  const firstPage = await conn.query("SELECT Id FROM Account");
  out.firstPage = { done: firstPage.done, size: firstPage.records.length, locator: Boolean(firstPage.nextRecordsUrl) };
  const more = await conn.queryMore(firstPage.nextRecordsUrl);
  out.secondPage = { done: more.done, size: more.records.length };
  const classes = await conn.tooling.query("SELECT Name, ApiVersion FROM ApexClass");
  out.tooling = classes.records.map((r) => [r.Name, r.ApiVersion]);
  const described = await conn.sobject("Account").describe();
  out.describe = { name: described.name, hasName: described.fields.some((f) => f.name === "Name") };
  const global = await conn.describeGlobal();
  out.describeGlobal = global.sobjects.some((s) => s.name === "Account");

  const created = await conn.sobject("Account").create({ Name: "Jsforce One" });
  await conn.sobject("Account").update({ Id: created.id, Industry: "Retail" });
  const got = await conn.sobject("Account").retrieve(created.id);
  out.crud = { created: created.success, industry: got.Industry };
  const collection = await conn.sobject("Account").create([{ Name: "Jsforce A" }, { Name: "Jsforce B" }], { allOrNone: true });
  out.collection = collection.map((r) => r.success);
  const composite = await conn.requestPost(`/services/data/v62.0/composite`, {
    allOrNone: false,
    compositeRequest: [
      { method: "GET", url: "/services/data/v62.0/query?q=SELECT+Name+FROM+Organization", referenceId: "org" },
      { method: "GET", url: `/services/data/v62.0/sobjects/Account/${created.id}`, referenceId: "acct" },
    ],
  });
  out.composite = composite.compositeResponse.map((r) => [r.referenceId, r.httpStatusCode]);
  await conn.sobject("Account").destroy(created.id);
  await conn.sobject("Account").destroy(collection.map((r) => r.id));
  try {
    await conn.sobject("Account").retrieve(created.id);
    out.afterDelete = "found";
  } catch (err) {
    out.afterDelete = err.errorCode || err.name;
  }
  const limits = await conn.limits();
  out.limits = limits.DailyApiRequests.Max > 0;
  console.log(JSON.stringify(out));
}

main().catch((err) => {
  console.error(`${err.name}: ${err.message}`);
  process.exit(1);
});
