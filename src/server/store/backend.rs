//! What every backend's [`Store`](super::Store) impl shares: the methods
//! that call the function of the same name in the backend's modules
//! (`messaging`, `epochs`, `changes`, `live`, `contacts`) with
//! `&self.pool`, or its appender. A backend writes the rest (accounts,
//! `ping`, `describe`, `close`) and names its modules and types in scope.

/// `impl Store for $backend`, with the backend's own methods `$own` and
/// the delegated ones.
macro_rules! backend_store {
    ($backend:ty { $($own:tt)* }) => {
        #[async_trait::async_trait]
        impl Store for $backend {
            $($own)*

            async fn create_conversation(&self, creation: &Creation) -> Result<(), StoreError> {
                messaging::create_conversation(&self.pool, creation).await
            }

            async fn conversation(&self, id: ConversationId) -> Result<Option<Conversation>, StoreError> {
                messaging::conversation(&self.pool, id).await
            }

            async fn standing(
                &self,
                id: ConversationId,
                member: Option<UserId>,
            ) -> Result<Option<Standing>, StoreError> {
                epochs::standing(&self.pool, id, member).await
            }

            async fn epochs(
                &self,
                id: ConversationId,
                from: u32,
                to: u32,
            ) -> Result<Vec<Epoch>, StoreError> {
                epochs::epochs(&self.pool, id, from, to).await
            }

            async fn member_ids(&self, id: ConversationId) -> Result<Vec<UserId>, StoreError> {
                epochs::member_ids(&self.pool, id).await
            }

            async fn conversations_of(
                &self,
                user: UserId,
                known: &HashSet<ConversationId>,
                cursor: Option<ConversationId>,
            ) -> Result<ListPage, StoreError> {
                messaging::conversations_of(&self.pool, user, known, cursor).await
            }

            async fn users_at_cap(&self, users: &[UserId], cap: u64) -> Result<Vec<UserId>, StoreError> {
                messaging::users_at_cap(&self.pool, users, cap).await
            }

            async fn conversation_ids_of(&self, user: UserId) -> Result<Vec<ConversationId>, StoreError> {
                messaging::conversation_ids_of(&self.pool, user).await
            }

            async fn is_member(
                &self,
                conversation: ConversationId,
                user: UserId,
            ) -> Result<bool, StoreError> {
                messaging::is_member(&self.pool, conversation, user).await
            }

            async fn append_message(
                &self,
                message: NewMessage,
            ) -> Result<Result<Appended, AppendRefusal>, StoreError> {
                self.appender.append(message).await
            }

            async fn change_conversation(
                &self,
                change: &ChangeRecord,
            ) -> Result<Result<Changed, ChangeRefusal>, StoreError> {
                changes::change(&self.pool, change).await
            }

            async fn leave_conversation(
                &self,
                conversation: ConversationId,
                member: UserId,
                epoch: u32,
                signature: &Blob,
            ) -> Result<Result<(), ChangeRefusal>, StoreError> {
                changes::leave(&self.pool, conversation, member, epoch, signature).await
            }

            async fn history(
                &self,
                conversation: ConversationId,
                reader: UserId,
                page: Page,
            ) -> Result<Vec<Message>, StoreError> {
                messaging::history(&self.pool, conversation, reader, page).await
            }

            async fn mark_read(
                &self,
                conversation: ConversationId,
                user: UserId,
                seq: u64,
            ) -> Result<Option<Marked>, StoreError> {
                live::mark_read(&self.pool, conversation, user, seq).await
            }

            async fn reads(
                &self,
                user: UserId,
                conversations: &[ConversationId],
                others: bool,
            ) -> Result<Vec<Read>, StoreError> {
                live::reads(&self.pool, user, conversations, others).await
            }

            async fn set_sharing(&self, user: UserId, sharing: Sharing) -> Result<(), StoreError> {
                live::set_sharing(&self.pool, user, sharing).await
            }

            async fn presence_rooms(
                &self,
                user: UserId,
                max_members: u32,
            ) -> Result<Vec<ConversationId>, StoreError> {
                live::presence_rooms(&self.pool, user, max_members).await
            }

            async fn presence_peers(
                &self,
                user: UserId,
                max_members: u32,
            ) -> Result<Vec<UserId>, StoreError> {
                live::presence_peers(&self.pool, user, max_members).await
            }

            async fn contact_book(&self, user: UserId) -> Result<Option<StoredBook>, StoreError> {
                contacts::contact_book(&self.pool, user).await
            }

            async fn put_contact_book(
                &self,
                user: UserId,
                put: &PutBook,
            ) -> Result<Result<(), u64>, StoreError> {
                contacts::put_contact_book(&self.pool, user, put).await
            }
        }
    };
}
