//! One budget per API key, handed to every client that uses the key: the state of an
//! application owns one registry, made at start-up, so two clients for the same key can never
//! each believe they own the whole budget.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::ApiKeyBudget;

#[derive(Debug, Default)]
pub struct BudgetRegistry {
    budgets: Mutex<HashMap<String, Arc<ApiKeyBudget>>>,
}

impl BudgetRegistry {
    /// The budget of `client_id`, made with these limits the first time the key is seen.
    pub fn budget_for(
        &self,
        client_id: &str,
        requests_per_second: u32,
        daily_quota: u32,
    ) -> Arc<ApiKeyBudget> {
        let mut budgets = self
            .budgets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        budgets
            .entry(client_id.to_owned())
            .or_insert_with(|| Arc::new(ApiKeyBudget::new(requests_per_second, daily_quota)))
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_budget_per_key() {
        let registry = BudgetRegistry::default();
        let first = registry.budget_for("key-a", 4, 10_000);
        let again = registry.budget_for("key-a", 4, 10_000);
        let other = registry.budget_for("key-b", 4, 10_000);
        assert!(Arc::ptr_eq(&first, &again));
        assert!(!Arc::ptr_eq(&first, &other));
    }
}
