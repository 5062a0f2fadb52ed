// Chart.js with only the parts we draw registered (so its chunk carries no more), loaded by the
// pages that draw charts, not by every page.
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);
Chart.defaults.animation = false;

export { Chart };
