export { subscriptionWorkflow, orderPaidSignal, restartSignal, statusQuery } from './subscription';
