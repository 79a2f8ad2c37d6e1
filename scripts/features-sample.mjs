// Writes templates/features-repo/data/: a small feature-store sample derived from the Telco churn data in
// templates/model-repo/data/churn.csv — monthly billing rows and mid-month usage snapshots for the first 600
// customers, and an entity table (customerID, at, Churn) for a model repository to train from. Deterministic (a
// hash of the customer and the month drives every change), so running it again writes the same bytes.
//   node scripts/features-sample.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';

const root = new URL('../templates/', import.meta.url);
const [head, ...lines] = readFileSync(new URL('model-repo/data/churn.csv', root), 'utf8').trim().split('\n');
const names = head.split(',');
const rows = lines.slice(0, 600).map((line) => Object.fromEntries(line.split(',').map((v, i) => [names[i], v])));
const unit = (...parts) => createHash('sha256').update(parts.join('|')).digest().readUInt32BE(0) / 2 ** 32;

const billing = ['customerID,billed_at,loaded_at,MonthlyCharges,TotalCharges,Contract,PaymentMethod,PaperlessBilling'];
const usage = ['customerID,as_of,tenure,InternetService,StreamingTV,StreamingMovies,TechSupport,support_calls'];
const labels = ['customerID,at,Churn'];
const months = ['2026-09', '2026-10', '2026-11'];
for (const r of rows) {
  const monthly = Number(r.MonthlyCharges);
  let total = Number(r.TotalCharges || 0) - 2 * monthly;
  months.forEach((month, m) => {
    // Charges drift a little month to month; the last month is the source's own value.
    const charge = m === 2 ? monthly : Math.round(monthly * (0.95 + 0.1 * unit(r.customerID, month)) * 100) / 100;
    total = Math.max(charge, Math.round((total + (m === 0 ? 0 : charge)) * 100) / 100);
    billing.push(`${r.customerID},${month}-01,${month}-01T02:00:00Z,${charge},${total},${r.Contract},${r.PaymentMethod},${r.PaperlessBilling}`);
  });
  for (const [m, month] of ['2026-10', '2026-11'].entries()) {
    const tenure = Math.max(0, Number(r.tenure) - 1 + m);
    const calls = Math.floor(unit(r.customerID, 'calls', month) * (r.Churn === 'Yes' ? 6 : 3));
    usage.push(`${r.customerID},${month}-15T00:00:00Z,${tenure},${r.InternetService},${r.StreamingTV},${r.StreamingMovies},${r.TechSupport},${calls}`);
  }
  labels.push(`${r.customerID},2026-11-20T00:00:00Z,${r.Churn}`);
}
const out = (file, list) => writeFileSync(new URL(`features-repo/data/${file}`, root), `${list.join('\n')}\n`);
out('billing.csv', billing);
out('usage.csv', usage);
out('labels.csv', labels);
console.log(`wrote ${billing.length - 1} billing rows, ${usage.length - 1} usage rows, ${labels.length - 1} labels`);
